interval = "10s"
service "message-bus" {
  unit = "message-bus.service", scope = "user",
  check = http { url = "http://127.0.0.1:8080/api/inbox/joe",
                 status = { 200, 204 }, json = true, timeout_ms = 1500,
                 json_field = { path = "a.b", equals = "ok\"" },
                 body_contains = "joe", max_latency_ms = 300,
                 connect_timeout_ms = 500, insecure = true,
                 max_body = 4096,
                 headers = { Authorization = env("MB_TOKEN"),
                             ["X-Probe"] = "lookout" } },
  runbook = "restart-service",
}
queue "mail" {
  redis = { url = "redis://127.0.0.1:6379/0", key = "queues:default",
            paused_key = "queues:default:paused" },
  warn = 100, crit = 1000, stall_after = "5m",
}
queue "inventory" {
  rabbitmq = { api = "http://127.0.0.1:15672", vhost = "/",
               name = "inventory", user = "guest",
               password_env = "RABBIT_PASS" },
}
local bin = "/usr/local/bin/"
queue "jobs" { command = { argv = { bin .. "depth", "jobs" },
                             timeout_ms = 3000 } }
runbook_dirs = { "/etc/lookout/runbooks", "/srv/runbooks" }
