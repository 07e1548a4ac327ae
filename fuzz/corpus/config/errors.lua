intervall = "5s"
service "" { }
service "x" { check = http { url = "ftp://nope", status = 999 }, scope = "galaxy" }
queue "q" { redis = { url = "redis://h/0" }, warn = "lots", crit = 5 }
queue "q" { rabbitmq = { api = "http://h", name = "n", password = "secret" } }
local t = setmetatable({}, { __index = function() return os end })
