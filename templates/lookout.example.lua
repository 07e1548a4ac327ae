-- lookout.example.lua: a configuration for the three seed incidents.
--
-- Copy it to ~/.config/lookout/lookout.lua (or /etc/lookout/lookout.lua,
-- or point $LOOKOUT_CONFIG or --config at it) and run "lookout check".
--
-- The file runs once, in a sandbox, when lookout starts: only service,
-- queue, notify, http and env are available, plus plain Lua (string, table,
-- math).
-- Secrets never go in this file: name an environment variable instead.

-- How often every probe runs: "500ms", "5s", "5m", "1h", or milliseconds.
interval = "5s"

-- lookout watch: an incident it opened is resolved once its checks have
-- passed for this long (it is "mitigated" as soon as they pass again).
resolve_after = "5m"
-- A URL lookout watch asks (GET) every cycle: a dead man's switch such as
-- healthchecks.io notices when the watcher itself stops.
-- deadman = "https://hc-ping.com/your-uuid"

-- Incident 1: message-bus.service died at start-up and only a heartbeat
-- noticed.  "active" is not "working": check the API itself, and let the
-- runbook start it, enable it (so it survives a reboot) and check again.
service "message-bus" {
	unit = "message-bus.service",	-- default: the name + ".service"
	scope = "user",			-- or "system"; default: system as root
	check = http {
		url = "http://127.0.0.1:8080/api/inbox/joe",
		status = 200,		-- or a list: { 200, 204 }
		json = true,		-- a 404 with an empty body is a failure
		timeout_ms = 2000,
		max_latency_ms = 1000,
		-- headers = { Authorization = env("MESSAGE_BUS_TOKEN") },
	},
	runbook = "restart-service",
	-- How lookout watch judges it; every key is optional, and these are
	-- the defaults.  Rules: "down" (failed, or inactive once it was
	-- active, for down_after: a restart, by hand or by systemd, passes
	-- through both), "unhealthy" (the check failed unhealthy_after times
	-- in a row), "deleted" (a process runs from a deleted directory or
	-- binary), "restarting" (restarts within restart_window: one incident
	-- for the whole loop); "not-enabled" only warns.  severity replaces
	-- each rule's own (P2, and P3 for restarting).  watch = false: not
	-- watched at all.
	watch = {
		unhealthy_after = 2,
		down_after = "1s",
		restarts = 3, restart_window = "5m",
		-- severity = "P1",
		-- ignore = { "not-enabled" },
	},
}

-- Incident 2: the queue workers died, the master stayed "active", the
-- queue sat paused for six weeks.  Watch depth, the paused flag and
-- progress: stalled means jobs wait and none were consumed for stall_after.
queue "mail" {
	redis = {
		url = "redis://127.0.0.1:6379/0",
		key = "queues:default",
		paused_key = "queues:default:paused",
	},
	warn = 100,
	crit = 1000,
	stall_after = "5m",
	-- lookout watch's rules for a queue, with their defaults: "stalled"
	-- (at once: stall_after already waited), "paused" (for paused_after),
	-- "crit" (over crit for crit_after), "growing" (rising for growing_for);
	-- "stale" (the source does not answer) only warns.  severity and
	-- ignore as for a service; "growing" is P3, the others P2.
	watch = { paused_after = "5m", crit_after = "1m", growing_for = "5m" },
}

-- Incident 3: the inventory-api backlog.  The management API password
-- comes from $RABBIT_PASS at probe time; a literal password is refused.
queue "inventory" {
	rabbitmq = {
		api = "http://127.0.0.1:15672",
		vhost = "/",
		name = "inventory",
		user = "guest",
		password_env = "RABBIT_PASS",
	},
	warn = 500,
	crit = 5000,
	stall_after = "10m",
}

-- Any other queue: a command that prints the depth (no shell involved).
-- queue "jobs" { command = { argv = { "/usr/local/bin/depth", "jobs" },
--                            timeout_ms = 2000 } }

-- Telling the team: "lookout watch" hands every incident it opens,
-- mitigates and resolves to each notifier.  A notification that cannot be
-- delivered is tried again (1 s, 2 s, 4 s... apart) and, if it never gets
-- through, recorded in the incident's timeline as notify.failed; one that
-- does as notify.sent.
--
-- Alertmanager routes, groups, silences and pages: lookout posts an alert
-- (labels alertname, service, severity, host) to /api/v2/alerts below this
-- base URL when an incident opens, posts it again every `resend` while it
-- fires, and posts its endsAt when it is resolved.  Watchers on several
-- hosts send the same alert but for the host label: route with
-- group_by: [alertname, service] and the team is paged once per outage.
notify "alertmanager" {
	alertmanager = "http://127.0.0.1:9093",
	resend = "1m",			-- below Alertmanager's resolve_timeout (5m)
	-- headers = { Authorization = env("ALERTMANAGER_AUTH") },
}

-- A chat webhook (Slack-compatible: a JSON POST with a "text" field, and
-- the incident's fields beside it).  A Slack webhook's URL is a secret
-- itself: name the variable that holds it.  Credentials come only from the
-- environment; a literal Authorization header is refused.
-- notify "chat" {
-- 	webhook = env("SLACK_WEBHOOK_URL"),
-- 	on = { "opened", "resolved" },	-- default: opened, mitigated, resolved
-- 	tries = 5, backoff = "1s", timeout_ms = 5000,
-- }

-- Any program: the event as JSON on its stdin and in LOOKOUT_* variables
-- (LOOKOUT_EVENT, LOOKOUT_INCIDENT, LOOKOUT_TITLE...).  An argv, never a
-- shell: nothing in an incident's title is ever run.
-- notify "pager" { command = { argv = { "/usr/local/bin/page", "--team", "infra" },
--                              timeout_ms = 10000 } }

-- Where "lookout run NAME" looks for NAME.lua, after the shipped templates.
runbook_dirs = { "/etc/lookout/runbooks" }
