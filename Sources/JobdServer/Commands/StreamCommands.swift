import JobdRESP
import JobdStore
import JobdSystem

/// The stream subset queue clients use, with Redis 7.0 semantics and errors:
/// XADD, XLEN, XRANGE, XREVRANGE, XREAD (COUNT, BLOCK, $), XDEL, XTRIM,
/// XSETID. Unlike other types, a stream key stays when it has no entries.
/// Approximate trimming (`~`) trims exactly, which keeps its promise of
/// "at least threshold entries" and makes the effect deterministic.
enum StreamCommands {
    static let invalidID: StaticString = "ERR Invalid stream ID specified as stream command argument"

    // MARK: IDs

    /// An unsigned decimal as Redis' string2ull: digits only, no overflow.
    static func parseUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 48))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// "ms" or "ms-seq"; a missing seq is `missingSeq`. With `allowAutoSeq`, "ms-*" gives seq nil.
    static func parseID(_ bytes: UnsafeRawBufferPointer, missingSeq: UInt64, allowAutoSeq: Bool = false)
        -> (id: StreamID, seqGiven: Bool)? {
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else {
            guard let ms = parseUInt64(bytes) else { return nil }
            return (StreamID(ms, missingSeq), true)
        }
        guard let ms = parseUInt64(UnsafeRawBufferPointer(rebasing: bytes[0..<dash])) else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[(dash + 1)...])
        if allowAutoSeq && rest.count == 1 && rest[0] == UInt8(ascii: "*") { return (StreamID(ms, 0), false) }
        guard let seq = parseUInt64(rest) else { return nil }
        return (StreamID(ms, seq), true)
    }

    /// A range bound: "-", "+", an ID, or "(ID" for an exclusive one (nil after an error reply).
    static func parseBound(_ call: Call, _ index: Int, isStart: Bool) -> StreamID? {
        let bytes = call.args[index]
        if bytes.count == 1 && bytes[0] == UInt8(ascii: "-") { return StreamID.zero }
        if bytes.count == 1 && bytes[0] == UInt8(ascii: "+") { return StreamID.max }
        let exclusive = bytes.first == UInt8(ascii: "(")
        let text = exclusive ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
        guard let (id, _) = parseID(text, missingSeq: isStart ? 0 : UInt64.max) else {
            call.reply.error(invalidID)
            return nil
        }
        guard exclusive else { return id }
        // An exclusive bound that excludes everything is an empty range.
        guard let moved = isStart ? id.successor : id.predecessor else {
            call.reply.error(isStart ? "ERR invalid start ID for the interval" : "ERR invalid end ID for the interval")
            return nil
        }
        return moved
    }

    static func replyEntry(_ reply: ReplyWriter, _ entry: StreamEntry) {
        reply.arrayHeader(2)
        reply.bulk(entry.id.text)
        reply.arrayHeader(entry.fieldsAndValues.count)
        for part in entry.fieldsAndValues { reply.bulk(part) }
    }

    // MARK: Trimming options (XADD and XTRIM)

    struct Trim {
        enum Strategy { case none, maxLength(Int), minID(StreamID) }
        var strategy = Strategy.none
        var approximate = false
        var limit = 0
        var noMakeStream = false
        /// XADD: the ID argument's position (after the options), and the ID unless it is `*`.
        var idIndex = 0
        var explicitID: (id: StreamID, seqGiven: Bool)?

        func apply(_ stream: StreamValue) -> Int {
            switch strategy {
            case .none: return 0
            case let .maxLength(n): return stream.trim(maxLength: n, limit: limit)
            case let .minID(id): return stream.trim(minID: id, limit: limit)
            }
        }
    }

    /// Parses `[NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]` from argument 2 (Redis' order of checks).
    static func parseTrim(_ call: Call, xadd: Bool) -> Trim? {
        var trim = Trim()
        var limitGiven = false
        var i = 2
        while i < call.count {
            let more = call.count - 1 - i
            if xadd && call.args[i].count == 1 && call.args[i][0] == UInt8(ascii: "*") { break }
            let isMaxLength = call.args.matches(i, "MAXLEN"), isMinID = call.args.matches(i, "MINID")
            if (isMaxLength || isMinID) && more > 0 {
                if case .none = trim.strategy {} else {
                    call.reply.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                    return nil
                }
                trim.approximate = false
                if more >= 2 && call.args.matches(i + 1, "~") { trim.approximate = true; i += 1 }
                else if more >= 2 && call.args.matches(i + 1, "=") { i += 1 }
                if isMaxLength {
                    guard let n = call.integer(i + 1) else { return nil }
                    if n < 0 { call.reply.error("ERR The MAXLEN argument must be >= 0."); return nil }
                    trim.strategy = .maxLength(Int(n))
                } else {
                    guard let (id, _) = parseID(call.args[i + 1], missingSeq: 0) else { call.reply.error(invalidID); return nil }
                    trim.strategy = .minID(id)
                }
                i += 2
            } else if call.args.matches(i, "LIMIT") && more > 0 {
                guard let n = call.integer(i + 1) else { return nil }
                if n < 0 { call.reply.error("ERR The LIMIT argument must be >= 0."); return nil }
                trim.limit = Int(n)
                limitGiven = true
                i += 2
            } else if xadd && call.args.matches(i, "NOMKSTREAM") {
                trim.noMakeStream = true
                i += 1
            } else if xadd {
                // The ID, checked here as Redis does (before the trimming rules).
                guard let parsed = parseID(call.args[i], missingSeq: 0, allowAutoSeq: true) else {
                    call.reply.error(invalidID)
                    return nil
                }
                trim.explicitID = parsed
                break
            } else {
                call.syntaxError()
                return nil
            }
        }
        trim.idIndex = i
        if case .none = trim.strategy {
            if trim.limit != 0 {
                call.reply.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
                return nil
            }
            if !xadd {
                call.reply.error("ERR syntax error, XTRIM must be called with a trimming strategy")
                return nil
            }
        }
        if limitGiven && !trim.approximate {
            call.reply.error("ERR syntax error, LIMIT cannot be used without the special ~ option")
            return nil
        }
        if !limitGiven && trim.approximate { trim.limit = 10_000 }
        return trim
    }

    // MARK: Commands

    /// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
    static func xadd(_ call: Call) {
        guard let trim = parseTrim(call, xadd: true) else { return }
        let idIndex = trim.idIndex
        let explicit = trim.explicitID
        let fields = call.count - idIndex - 1
        guard fields >= 2 && fields % 2 == 0 else { return call.wrongArity() }
        if let explicit, explicit.seqGiven, explicit.id == .zero {
            return call.reply.error("ERR The ID specified in XADD must be greater than 0-0")
        }
        let stream: StreamValue
        var isNew = false
        switch call.stream(1) {
        case .wrongType: return
        case let .found(_, s): stream = s
        case .missing:
            if trim.noMakeStream { return call.reply.nullBulk() }
            stream = StreamValue()
            isNew = true
        }
        if stream.lastID == .max {
            return call.reply.error("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        let id: StreamID
        let tooSmall: StaticString = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        if let explicit {
            if explicit.seqGiven {
                guard explicit.id > stream.lastID else { return call.reply.error(tooSmall) }
                id = explicit.id
            } else {
                // "ms-*": the next sequence number within that millisecond.
                if explicit.id.ms < stream.lastID.ms { return call.reply.error(tooSmall) }
                if explicit.id.ms == stream.lastID.ms {
                    guard stream.lastID.seq < UInt64.max else { return call.reply.error(tooSmall) }
                    id = StreamID(explicit.id.ms, stream.lastID.seq + 1)
                } else {
                    id = StreamID(explicit.id.ms, 0)
                }
            }
        } else {
            let now = UInt64(max(0, call.now))
            id = now > stream.lastID.ms ? StreamID(now, 0) : stream.lastID.successor!
        }
        stream.append(id, call.args.copies(from: idIndex + 1))
        if isNew { call.db.add(call.args[1], .stream(stream)) }
        _ = trim.apply(stream)
        call.server.blocking.keyReady(database: call.client.databaseIndex, key: call.args.bytes(1))
        // Logged with the concrete ID, so that replay creates the same entry.
        let args = call.args, idText = id.text
        call.log { e in
            e.begin(args.count)
            for i in 0..<args.count { if i == idIndex { e.argument(idText) } else { e.argument(args[i]) } }
        }
        call.reply.bulk(idText)
    }

    static func xlen(_ call: Call) {
        switch call.stream(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, s): call.reply.integer(s.count)
        }
    }

    /// XRANGE key start end [COUNT count], XREVRANGE key end start [COUNT count]
    static func xrange(_ call: Call) {
        let reverse = call.spec.name == "xrevrange"
        guard let start = parseBound(call, reverse ? 3 : 2, isStart: true),
              let end = parseBound(call, reverse ? 2 : 3, isStart: false) else { return }
        var count: Int64 = -1
        var i = 4
        while i < call.count {
            guard call.args.matches(i, "COUNT"), i + 1 < call.count else { return call.syntaxError() }
            guard let n = call.integer(i + 1) else { return }
            count = max(0, n)
            i += 2
        }
        let found: StreamValue
        switch call.stream(1) {
        case .wrongType: return
        case .missing: return call.reply.emptyArray()
        case let .found(_, s): found = s
        }
        if count == 0 { return call.reply.nullArray() }
        var entries: [StreamEntry] = []
        found.range(from: start, to: end, reverse: reverse, limit: count < 0 ? 0 : Int(min(count, Int64(Int.max)))) {
            entries.append($0)
        }
        call.reply.arrayHeader(entries.count)
        for entry in entries { replyEntry(call.reply, entry) }
    }

    /// XDEL key id [id ...]
    static func xdel(_ call: Call) {
        let found: StreamValue
        switch call.stream(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(_, s): found = s
        }
        // Every ID is checked before anything is deleted.
        var ids: [StreamID] = []
        for i in 2..<call.count {
            guard let (id, _) = parseID(call.args[i], missingSeq: 0) else { return call.reply.error(invalidID) }
            ids.append(id)
        }
        let deleted = ids.reduce(0) { $0 + (found.delete($1) ? 1 : 0) }
        if deleted > 0 { call.logAsIs() }
        call.reply.integer(deleted)
    }

    /// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
    static func xtrim(_ call: Call) {
        guard let trim = parseTrim(call, xadd: false) else { return }
        let found: StreamValue
        switch call.stream(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(_, s): found = s
        }
        let removed = trim.apply(found)
        if removed > 0 { call.logAsIs() }
        call.reply.integer(removed)
    }

    /// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]: used by the log rewrite to keep a stream's last ID.
    static func xsetid(_ call: Call) {
        guard let (id, _) = parseID(call.args[2], missingSeq: 0) else { return call.reply.error(invalidID) }
        var i = 3
        var added: UInt64?
        var maxDeleted: StreamID?
        while i < call.count {
            guard i + 1 < call.count else { return call.syntaxError() }
            if call.args.matches(i, "ENTRIESADDED") {
                guard let n = call.integer(i + 1), n >= 0 else {
                    return call.reply.error("ERR entries_added must be positive")
                }
                added = UInt64(n)
            } else if call.args.matches(i, "MAXDELETEDID") {
                guard let (deleted, _) = parseID(call.args[i + 1], missingSeq: 0) else { return call.reply.error(invalidID) }
                maxDeleted = deleted
            } else {
                return call.syntaxError()
            }
            i += 2
        }
        let found: StreamValue
        switch call.stream(1) {
        case .wrongType: return
        case .missing: return call.reply.error("ERR no such key")
        case let .found(_, s): found = s
        }
        if let last = found.lastEntryID, id < last {
            return call.reply.error("ERR The ID specified in XSETID is smaller than the target stream top item")
        }
        if let added, added < UInt64(found.count) {
            return call.reply.error("ERR The entries_added specified in XSETID is smaller than the target stream length")
        }
        found.restore(lastID: id, entriesAdded: added, maxDeletedID: maxDeleted)
        call.logAsIs()
        call.reply.ok()
    }
}
