-- Seed 002: a backlog.  Record depth and rates for the postmortem, start
-- extra workers from a template unit, wait until the queue drains, then
-- stop the extra workers.

-- Runs action (systemctl.start or .stop) on each extra worker,
-- worker@extra1.service and on, stopping at the first failure.
local function each_extra(p, action)
  local base = p.template:gsub("@%.service$", "@")
  for i = 1, tonumber(p.workers) do
    local r = action(base .. "extra" .. i .. ".service", { scope = p.scope })
    if not r.ok then return r end
  end
  return { ok = true }
end

return runbook {
  name = "backlog",
  description = "Add workers from a template unit until a queue backlog drains",
  params = {
    queue = { required = true, description = "the queue, as named in the config" },
    template = { required = true, description = "a template unit, e.g. worker@.service" },
    workers = { default = "2", description = "how many extra workers" },
    scope = { default = "user" },
    drain_within = { default = "30m" },
    every = { default = "10s", description = "how often to look while waiting" },
  },
  step "record depth and rates" { function(p)
    local q = queue.state(p.queue)
    note(("queue %s: depth %s, in %.1f/min, out %.1f/min, consumers %s (%s)"):format(
      p.queue, q.depth, q.rate_in_per_min, q.rate_out_per_min, q.consumers, q.state))
    return { ok = true }
  end },
  step "start extra workers" { function(p) return each_extra(p, systemctl.start) end },
  step "wait until draining" { function(p)
    return wait_until { function()
        local q = queue.state(p.queue)
        return q.depth == 0, ("depth %s"):format(q.depth)
      end, timeout = p.drain_within, interval = p.every, description = "queue " .. p.queue .. " empty" }
  end },
  step "stop extra workers" { function(p) return each_extra(p, systemctl.stop) end },
}
