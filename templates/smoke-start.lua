-- Seed 000's first lesson: smoke-test before starting.  A preflight command
-- (importing the app, a config test) must pass before the service starts;
-- then start, enable and check the endpoint.
return runbook {
  name = "smoke-start",
  description = "Preflight command, then start, enable and verify a service",
  params = {
    unit = { required = true },
    url = { required = true },
    preflight = { required = true, description = "an executable that exits 0 when the app can start, e.g. /srv/app/bin/smoke" },
    workdir = { default = "/", description = "where the preflight runs" },
    scope = { default = "user" },
  },
  step "preflight" { function(p)
    return sh { p.preflight, cwd = p.workdir, timeout = "60s" }
  end },
  step "start" { function(p)
    return systemctl.start(p.unit, { scope = p.scope })
  end },
  step "enable" { function(p)
    return systemctl.enable(p.unit, { scope = p.scope })
  end },
  step "endpoint check" { function(p)
    return http.check { url = p.url, status = 200, retries = 5, backoff_ms = 1000 }
  end },
}
