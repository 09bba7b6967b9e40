/// Periodic jobs (CRON.ADD): each entry adds a job when its schedule
/// comes due. The last run is logged with the job it added, so a restart
/// neither repeats a run nor forgets one: runs missed while the server was
/// down are made up once, on start.
public struct CronTable {
    public struct Entry {
        public let name: [UInt8]
        public let schedule: CronSchedule
        public let database: Int
        public let request: JobEngine.AddRequest
        /// The JOB.ADD options as given, for CRON.LIST and the log.
        public let optionWords: [[UInt8]]
        public internal(set) var lastRun: Int64
        public internal(set) var nextRun: Int64?
        let serial: UInt64
    }

    public private(set) var entries: [[UInt8]: Entry] = [:]
    private var nameBySerial: [UInt64: [UInt8]] = [:]
    private var nextSerial: UInt64 = 1

    public var count: Int { entries.count }
    public var sortedEntries: [Entry] { entries.values.sorted { $0.name.lexicographicallyPrecedes($1.name) } }

    mutating func put(_ entry: Entry) { entries[entry.name] = entry; nameBySerial[entry.serial] = entry.name }

    mutating func makeSerial() -> UInt64 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    mutating func remove(_ name: [UInt8]) -> Entry? {
        guard let entry = entries.removeValue(forKey: name) else { return nil }
        nameBySerial[entry.serial] = nil
        return entry
    }

    func entry(serial: UInt64) -> Entry? { nameBySerial[serial].flatMap { entries[$0] } }

    mutating func setRun(_ name: [UInt8], last: Int64, next: Int64?) {
        entries[name]?.lastRun = last
        entries[name]?.nextRun = next
    }
}

extension JobEngine {
    /// CRON.ADD (or replacing an entry of the same name).
    public func addCron(name: [UInt8], schedule: CronSchedule, database: Int, request: AddRequest,
                        optionWords: [[UInt8]], now: Int64) {
        applyCron(name: name, schedule: schedule, database: database, request: request, optionWords: optionWords,
                  lastRun: now, now: now)
        log(database, JobLogRecords.cron(cron.entries[name]!))
    }

    func applyCron(name: [UInt8], schedule: CronSchedule, database: Int, request: AddRequest, optionWords: [[UInt8]],
                   lastRun: Int64, now: Int64) {
        _ = cron.remove(name)
        let serial = cron.makeSerial()
        let next = schedule.nextRun(after: lastRun)
        cron.put(CronTable.Entry(name: name, schedule: schedule, database: database, request: request,
                                 optionWords: optionWords, lastRun: lastRun, nextRun: next, serial: serial))
        if let next { timeline.schedule(.cron, serial, at: next) }
    }

    /// CRON.DEL: true when the entry existed.
    public func removeCron(_ name: [UInt8]) -> Bool {
        guard let entry = cron.remove(name) else { return false }
        log(entry.database, JobLogRecords.cronDelete(name))
        return true
    }

    func applyCronDelete(_ name: [UInt8]) { _ = cron.remove(name) }

    /// A cron entry came due: one job, however many runs were missed.
    func fireCron(_ timer: Timeline.Entry, now: Int64) {
        guard let entry = cron.entry(serial: timer.subject), entry.nextRun == timer.at else { return }
        var request = entry.request
        request.runAt = nil
        _ = try? add(request, database: entry.database, now: now)
        let next = entry.schedule.nextRun(after: now)
        cron.setRun(entry.name, last: now, next: next)
        log(entry.database, JobLogRecords.cronRan(entry.name, at: now))
        if let next { timeline.schedule(.cron, entry.serial, at: next) }
    }

    func applyCronRan(_ name: [UInt8], at: Int64) {
        guard let entry = cron.entries[name] else { return }
        cron.setRun(name, last: at, next: entry.schedule.nextRun(after: at))
    }

    /// After loading the log: cron timers again (a run missed while down comes due at once).
    func rescheduleCron() {
        for entry in cron.entries.values {
            if let next = entry.nextRun { timeline.schedule(.cron, entry.serial, at: next) }
        }
    }
}
