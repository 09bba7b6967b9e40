/// Command table rows for the job engine: JOB.*, QUEUE.*, CRON.* (and the
/// JOBD log record, which only the log loader may run).
extension CommandRegistry {
    static var jobs: [CommandSpec] { jobCommands + queueCommands + cronCommands + workerCommands }

    static var jobCommands: [CommandSpec] { [
        CommandSpec("job.add", arity: -3, flags: [.write, .denyOOM], keys: .one, group: "jobs", since: "0.1.0",
                    summary: "Enqueues a job with options; returns its id (or the id of the job already holding UNIQUE key).",
                    syntax: "queue payload [PRIORITY 0-10] [DELAY ms | AT unix-ms] [RETRIES n] [BACKOFF ms [MAX ms] [JITTER]] [TIMEOUT ms] [TTL ms] [UNIQUE key [FOR ms]] [RESULTTTL ms] [ID id]",
                    handler: JobCommands.add),
        CommandSpec("job.get", arity: -3, flags: [.write, .blocking, .replyBeforeSync], group: "jobs", since: "0.1.0",
                    complexity: "O(Q) for Q queues, per job taken",
                    summary: "Leases jobs to the calling connection, most urgent first across the queues: [queue, id, payload, attempt] each.",
                    syntax: "[BLOCK ms] [COUNT n] [LEASE ms] FROM queue [queue ...]",
                    handler: JobCommands.get),
        CommandSpec("job.ack", arity: -2, flags: [.write, .fast], group: "jobs", since: "0.1.0",
                    summary: "Completes a job leased by this connection, keeping its result.",
                    syntax: "id [result]", handler: JobCommands.ack),
        CommandSpec("job.fail", arity: -2, flags: [.write, .fast], group: "jobs", since: "0.1.0",
                    summary: "Fails the attempt of a job leased by this connection: retried with backoff, or dead after its last retry.",
                    syntax: "id [error] [RETRYIN ms | DEAD]", handler: JobCommands.fail),
        CommandSpec("job.touch", arity: -2, flags: [.fast], group: "jobs", since: "0.1.0",
                    summary: "Extends the lease of a job held by this connection; returns the new deadline (Unix ms).",
                    syntax: "id [ms]", handler: JobCommands.touch),
        CommandSpec("job.info", arity: 2, flags: [.readonly, .fast], group: "jobs", since: "0.1.0",
                    summary: "Shows a job: state, queue, priority, attempts, timestamps, lease, errors, result size.",
                    syntax: "id", handler: JobCommands.info),
        CommandSpec("job.result", arity: -2, flags: [.readonly, .blocking], group: "jobs", since: "0.1.0",
                    summary: "Returns a completed job's result (null while unfinished), waiting up to WAIT ms for it to finish.",
                    syntax: "id [WAIT ms]", handler: JobCommands.result),
        CommandSpec("job.cancel", arity: 2, flags: [.write, .fast], group: "jobs", since: "0.1.0",
                    summary: "Cancels a job that has not finished.", syntax: "id", handler: JobCommands.cancel),
        CommandSpec("job.retry", arity: 2, flags: [.write, .fast], group: "jobs", since: "0.1.0",
                    summary: "Runs a finished job again (or a delayed one now).", syntax: "id", handler: JobCommands.retry),
    ] }

    static var queueCommands: [CommandSpec] { [
        CommandSpec("queue.list", arity: 1, flags: [.readonly], group: "jobs", since: "0.1.0", complexity: "O(N) keys",
                    summary: "Lists the queues of the current database.", handler: QueueCommands.list),
        CommandSpec("queue.stats", arity: 2, flags: [.readonly], keys: .one, group: "jobs", since: "0.1.0",
                    summary: "Counts of a queue: pending per priority, delayed, active, completed, failed, dead; rates; oldest pending age; flow-control limits.",
                    syntax: "queue", handler: QueueCommands.stats),
        CommandSpec("queue.pause", arity: 2, flags: [.write, .fast], keys: .one, group: "jobs", since: "0.1.0",
                    summary: "Stops leasing jobs from a queue (plain list commands still work).",
                    syntax: "queue", handler: QueueCommands.pause),
        CommandSpec("queue.resume", arity: 2, flags: [.write, .fast], keys: .one, group: "jobs", since: "0.1.0",
                    summary: "Leases jobs from a paused queue again.", syntax: "queue", handler: QueueCommands.pause),
        CommandSpec("queue.config", arity: -2, flags: [.write, .fast], keys: .one, group: "jobs", since: "0.1.0",
                    summary: "Sets a queue's default priority (of plain LPUSH/RPUSH), rate limit (n/s, n/m or n/h; 0: none) and concurrency limit (0: none); with no options replies them.",
                    syntax: "queue [PRIORITY 0-10] [RATE rate] [CONCURRENCY n]", handler: QueueCommands.config),
        CommandSpec("queue.purge", arity: -2, flags: [.write], keys: .one, group: "jobs", since: "0.1.0", complexity: "O(N)",
                    summary: "Drops a queue's waiting jobs (pending and delayed), or with DEAD its dead letters; returns how many.",
                    syntax: "queue [DEAD]", handler: QueueCommands.purge),
        CommandSpec("queue.dead", arity: -2, flags: [.readonly], keys: .one, group: "jobs", since: "0.1.0", complexity: "O(N)",
                    summary: "Lists dead letters, oldest first: [id, payload, attempts, last error, finished].",
                    syntax: "queue [COUNT n]", handler: QueueCommands.dead),
        CommandSpec("queue.requeue", arity: -2, flags: [.write], keys: .one, group: "jobs", since: "0.1.0", complexity: "O(N)",
                    summary: "Sends dead letters back to pending; returns how many.",
                    syntax: "queue [id [id ...] | ALL]", handler: QueueCommands.requeue),
    ] }

    static var workerCommands: [CommandSpec] { [
        CommandSpec("worker.list", arity: 1, flags: [.readonly, .admin], group: "jobs", since: "0.1.0",
                    complexity: "O(P) for P pools",
                    summary: "Lists the in-process worker pools: queues, handler, concurrency, busy, idle, outcomes, mean and p99 handler ms.",
                    handler: WorkerCommands.list),
        CommandSpec("worker.scale", arity: 3, flags: [.admin], group: "jobs", since: "0.1.0",
                    summary: "Sets how many threads the worker pool serving a queue runs; returns the new count.",
                    syntax: "queue count", handler: WorkerCommands.scale),
    ] }

    static var cronCommands: [CommandSpec] { [
        CommandSpec("cron.add", arity: -5, flags: [.write, .denyOOM], group: "jobs", since: "0.1.0",
                    summary: "Adds (or replaces) a periodic job: a 5-field cron spec in UTC or @hourly-style alias.",
                    syntax: "name spec queue payload [JOB.ADD options]", handler: QueueCommands.cronAdd),
        CommandSpec("cron.list", arity: 1, flags: [.readonly], group: "jobs", since: "0.1.0", complexity: "O(N)",
                    summary: "Lists periodic jobs: [name, spec, queue, payload, next run, last run, [options]].",
                    handler: QueueCommands.cronList),
        CommandSpec("cron.del", arity: 2, flags: [.write, .fast], group: "jobs", since: "0.1.0",
                    summary: "Removes a periodic job.", syntax: "name", handler: QueueCommands.cronDelete),
        CommandSpec("jobd", arity: -2, flags: [.write], group: "jobs", since: "0.1.0",
                    summary: "A job engine record in the append-only log (runs only while loading).",
                    syntax: "verb [field [field ...]]", handler: QueueCommands.logRecord),
    ] }
}
