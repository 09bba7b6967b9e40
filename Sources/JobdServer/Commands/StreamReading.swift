import JobdRESP
import JobdStore
import JobdSystem

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
///
/// Answers at once when a stream has entries after its ID; otherwise, with
/// BLOCK, waits until an XADD adds one (`$` means "after the last entry
/// now") and answers with that stream alone, as Redis does.
enum StreamReading {
    static func xread(_ call: Call) {
        var count = 0
        var deadline: Int64?
        var streamsIndex = 0
        var i = 1
        while i < call.count {
            let more = call.count - 1 - i
            if call.args.matches(i, "BLOCK") && more > 0 {
                guard let ms = call.integer(i + 1, orReply: "ERR timeout is not an integer or out of range") else { return }
                if ms < 0 { return call.reply.error("ERR timeout is negative") }
                deadline = ms == 0 ? 0 : call.now + min(ms, Int64.max - call.now)
                i += 2
            } else if call.args.matches(i, "COUNT") && more > 0 {
                guard let n = call.integer(i + 1) else { return }
                count = n < 0 ? 0 : Int(min(n, Int64(Int.max)))
                i += 2
            } else if call.args.matches(i, "STREAMS") && more > 0 {
                streamsIndex = i + 1
                break
            } else {
                return call.syntaxError()
            }
        }
        guard streamsIndex > 0 else { return call.syntaxError() }
        let remaining = call.count - streamsIndex
        guard remaining % 2 == 0 else {
            return call.reply.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
        }
        let keyCount = remaining / 2
        var keys: [[UInt8]] = [], after: [StreamID] = [], streams: [StreamValue?] = []
        for k in 0..<keyCount {
            let keyIndex = streamsIndex + k, idIndex = streamsIndex + keyCount + k
            var found: StreamValue?
            switch call.stream(keyIndex) {
            case .wrongType: return
            case .missing: break
            case let .found(_, s): found = s
            }
            let idBytes = call.args[idIndex]
            let id: StreamID
            if idBytes.count == 1 && idBytes[0] == UInt8(ascii: "$") {
                id = found?.lastID ?? .zero
            } else {
                guard let (parsed, _) = StreamCommands.parseID(idBytes, missingSeq: 0) else {
                    return call.reply.error(StreamCommands.invalidID)
                }
                id = parsed
            }
            keys.append(call.args.bytes(keyIndex))
            after.append(id)
            streams.append(found)
        }
        let ready = (0..<keyCount).filter { streams[$0]?.hasEntries(after: after[$0]) == true }
        if !ready.isEmpty {
            if call.reply.isRESP3 { call.reply.mapHeader(ready.count) } else { call.reply.arrayHeader(ready.count) }
            for k in ready { replyStream(call.reply, key: keys[k], streams[k]!, after: after[k], count: count) }
            return
        }
        guard let deadline else { return call.reply.nullArray() }
        call.server.block(call, keys: keys, deadline: deadline, action: .readStreams(after: after, count: count))
    }

    /// One stream's part of the reply: key, then its entries after `after`.
    static func replyStream(_ reply: ReplyWriter, key: [UInt8], _ stream: StreamValue, after: StreamID, count: Int) {
        var entries: [StreamEntry] = []
        if let start = after.successor {
            stream.range(from: start, to: .max, limit: count) { entries.append($0) }
        }
        if !reply.isRESP3 { reply.arrayHeader(2) }
        reply.bulk(key)
        reply.arrayHeader(entries.count)
        for entry in entries { StreamCommands.replyEntry(reply, entry) }
    }
}

extension Server {
    /// Serves a client blocked in XREAD when `key` may have new entries; returns whether it was served.
    func serveStreamRead(_ client: Client, _ command: BlockedCommand, key: [UInt8], db: Database,
                         after: [StreamID], count: Int) -> Bool {
        guard let index = command.keys.firstIndex(of: key),
              let entry = key.withUnsafeBytes({ db.lookup($0) }), case let .stream(stream) = entry.value,
              stream.hasEntries(after: after[index]) else { return false }
        let reply = writer(for: client)
        if reply.isRESP3 { reply.mapHeader(1) } else { reply.arrayHeader(1) }
        StreamReading.replyStream(reply, key: key, stream, after: after[index], count: count)
        finishServing(client)
        return true
    }
}
