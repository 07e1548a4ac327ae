-- Seed 000: a service died at start-up.  The recovery is always the same
-- three steps: start it, enable it so it survives a reboot, and check the
-- endpoint answers (not just that the process is alive).
return runbook {
  name = "restart-service",
  description = "Start, enable and verify a systemd service",
  params = {
    unit = { required = true, description = "the unit, e.g. message-bus.service" },
    url = { required = true, description = "an endpoint that must answer, e.g. http://127.0.0.1:8080/api/inbox/joe" },
    scope = { default = "user", description = "user or system" },
    host = { description = "the host the unit lives on (an ssh_config alias or user@host); none: this one" },
    status = { default = "200", description = "the HTTP status the endpoint must answer" },
  },
  step "start" { function(p)
    return systemctl.start(p.unit, { scope = p.scope, host = p.host })
  end },
  step "enable" { function(p)
    return systemctl.enable(p.unit, { scope = p.scope, host = p.host })
  end },
  step "endpoint check" { function(p)
    return http.check { url = p.url, status = tonumber(p.status),
                        retries = 5, backoff_ms = 1000 }
  end },
}
