-- Plain Lua building blocks: loops, helpers, string and table functions.
local function web(name, port, path)
  service(name) {
    check = http { url = string.format("http://127.0.0.1:%d%s", port, path),
                   status = { 200, 204 }, json_field = { path = "items.0.ok", equals = true },
                   max_latency_ms = 250 },
  }
end
for i, n in ipairs({ "api", "web", "auth" }) do web(n, 8000 + i, "/health") end
queue "q1" { command = { argv = { "/bin/echo", tostring(math.max(1, 2)) } },
             warn = 10, crit = 20, stall_after = "1m30s" }
interval = 1500
