return runbook {
  name = "errors",
  params = { a = { required = true, secret = true, default = "x" }, b = 3 },
  nope = 1,
  step "x" { function(p) return true end, timeout = "soon" },
  step "x" { 42 },
  "not a step",
}
