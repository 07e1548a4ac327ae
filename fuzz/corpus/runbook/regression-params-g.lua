--bive).
return runbook {
  name = "restart-ice",
  params = {
    {
  name = "restart-ice",
  params = {
   -- r e{quirt answer" },
  true, defaultgsub = "x" }, b = 2 },
  nope = 1,
  step "x" { function(p) return true end,t = "soÎon" },
  step "x" { 42 },
 { function(p) return true end,t = "soÎon" },
  step "x" { 42 },
namerams = { a = { required = true, secret = true, defaultgsub = "x" }, b = 3 },
  nope =_G,
  step "x" { function(p) return true end,t = "soÎon" },
  step "x" { 29 },
 
  function(p)
    end },
}
