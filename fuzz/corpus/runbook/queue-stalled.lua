-- Seed 001: the queue says "paused", systemd says "active", and the workers
-- run from a release directory a deploy deleted.  A worker restart that
-- keeps the master process is not enough: stop and start the unit so the
-- main process is replaced, check it really is new, and watch the queue
-- drain.
return runbook {
  name = "queue-stalled",
  description = "Confirm a stalled queue, replace its workers' main process, verify it drains",
  params = {
    service = { required = true, description = "the workers' service, as named in the config" },
    unit = { required = true, description = "its systemd unit, e.g. mail-worker.service" },
    queue = { required = true, description = "the queue, as named in the config" },
    scope = { default = "user" },
    drain_within = { default = "10m" },
    every = { default = "5s", description = "how often to look while waiting" },
  },
  step "confirm the queue is stuck" { function(p)
    local q = queue.state(p.queue)
    note(("queue %s: %s, depth %s, state %s"):format(p.queue, q.reason, q.depth, q.state))
    if q.state ~= "stalled" and q.state ~= "paused" and not q.flags["no-consumers"] then
      return { ok = false, reason = "queue " .. p.queue .. " is " .. q.state .. ", not stalled or paused" }
    end
    return { ok = true }
  end },
  step "look for processes running from deleted directories" { function(p)
    local s = service.state(p.service)
    note(("service %s: %s/%s, MainPID %s, flags: %s"):format(p.service, s.active, s.sub,
      s.main_pid, table.concat(s.flags, ",")))
    return { ok = true, reason = s.reason }
  end },
  step "stop" { function(p)
    note("MainPID before: " .. service.state(p.service).main_pid)
    return systemctl.stop(p.unit, { scope = p.scope })
  end },
  step "start" { function(p)
    return systemctl.start(p.unit, { scope = p.scope })
  end },
  step "verify the new MainPID" { function(p)
    local s
    local r = wait_until { function()
        s = service.state(p.service)
        local clean = not (s.flags["deleted-cwd"] or s.flags["deleted-exe"])
        return s.active == "active" and clean, ("%s, %s"):format(s.active, s.reason)
      end, timeout = "1m", interval = p.every, description = p.service .. " active and clean" }
    if not r.ok then return r end
    return { ok = true, reason = "MainPID " .. s.main_pid }
  end },
  step "wait until the queue drains" { function(p)
    return wait_until { function()
        local q = queue.state(p.queue)
        return q.depth == 0 or q.state == "ok", ("depth %s, %s"):format(q.depth, q.state)
      end, timeout = p.drain_within, interval = p.every, description = "queue " .. p.queue .. " draining" }
  end },
}
