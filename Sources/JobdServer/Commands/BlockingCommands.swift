import JobdRESP
import JobdStore

/// BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH: answer at once when a list
/// has elements, otherwise block the client (see BlockedClients.swift).
enum BlockingCommands {
    /// BLPOP/BRPOP key [key ...] timeout
    static func bpop(_ call: Call) {
        guard let deadline = call.blockingDeadline(call.count - 1) else { return }
        let end: ListEnd = call.spec.name == "blpop" ? .head : .tail
        for i in 1..<(call.count - 1) {
            switch ListCommands.lookup(call, i) {
            case .wrongType: return
            case .missing: continue
            case let .list(entry, list):
                call.reply.arrayHeader(2)
                call.reply.bulk(call.args[i])
                ListCommands.popElement(list, end) { call.reply.bulk($0) }
                ListCommands.logPop(call.server, database: call.client.databaseIndex, key: call.args[i], end: end, count: 0)
                if list.isEmpty { call.db.remove(entry) }
                return
            }
        }
        call.server.block(call, keys: (1..<(call.count - 1)).map { call.args.bytes($0) }, deadline: deadline,
                          action: .pop(end))
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
    static func blmpop(_ call: Call) {
        guard let deadline = call.blockingDeadline(1) else { return }
        guard let parsed = ListCommands.parseMultiPop(call, numkeysIndex: 2) else { return }
        for key in parsed.keys {
            switch ListCommands.lookup(call, key) {
            case .wrongType: return
            case .missing: continue
            case let .list(entry, list):
                ListCommands.replyPoppedRange(call, key: key, list: list, end: parsed.end, count: parsed.count)
                if list.isEmpty { call.db.remove(entry) }
                return
            }
        }
        call.server.block(call, keys: parsed.keys.map { call.args.bytes($0) }, deadline: deadline,
                          action: .popMany(parsed.end, count: parsed.count))
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
    static func blmove(_ call: Call) {
        guard let from = ListCommands.side(call, 3), let to = ListCommands.side(call, 4) else { return }
        guard let deadline = call.blockingDeadline(5) else { return }
        blockingMove(call, from: from, to: to, deadline: deadline)
    }

    /// BRPOPLPUSH source destination timeout
    static func brpoplpush(_ call: Call) {
        guard let deadline = call.blockingDeadline(3) else { return }
        blockingMove(call, from: .tail, to: .head, deadline: deadline)
    }

    private static func blockingMove(_ call: Call, from: ListEnd, to: ListEnd, deadline: Int64) {
        switch ListCommands.lookup(call, 1) {
        case .wrongType: return
        case .list: ListCommands.move(call, from: from, to: to)
        case .missing:
            call.server.block(call, keys: [call.args.bytes(1)], deadline: deadline,
                              action: .move(from: from, to: to, destination: call.args.bytes(2)))
        }
    }
}
