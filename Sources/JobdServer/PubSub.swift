import JobdRESP
import JobdStore
import JobdSystem

/// Channels and patterns with their subscribers, in subscription order.
struct PubSubRegistry {
    var channels: [[UInt8]: [Client]] = [:]
    var patterns: [[UInt8]: [Client]] = [:]

    static func remove(_ client: Client, from table: inout [[UInt8]: [Client]], _ name: [UInt8]) {
        guard var list = table[name] else { return }
        list.removeAll { $0 === client }
        table[name] = list.isEmpty ? nil : list
    }
}

/// SUBSCRIBE, PSUBSCRIBE, their opposites, PUBLISH and PUBSUB, as in Redis
/// 7.0: confirmations and messages are push frames in RESP3 and arrays in
/// RESP2, where a subscribed client may only (un)subscribe, PING, QUIT and
/// RESET. Slow subscribers are bounded by client-output-buffer-limit pubsub.
extension Server {
    /// Sends `[kind, name, count]` to the subscribing client.
    private func confirm(_ reply: ReplyWriter, _ kind: StaticString, _ name: [UInt8]?, _ count: Int) {
        reply.pushHeader(3)
        reply.bulk(kind)
        if let name { reply.bulk(name) } else { reply.nullBulk() }
        reply.integer(count)
    }

    func subscribe(_ call: Call, pattern: Bool) {
        let client = call.client
        for i in 1..<call.count {
            let name = call.args.bytes(i)
            if pattern {
                if !client.patterns.contains(name) {
                    client.patterns.append(name)
                    pubsub.patterns[name, default: []].append(client)
                }
            } else if !client.channels.contains(name) {
                client.channels.append(name)
                pubsub.channels[name, default: []].append(client)
            }
            confirm(call.reply, pattern ? "psubscribe" : "subscribe", name, client.subscriptionCount)
        }
    }

    func unsubscribe(_ call: Call, pattern: Bool) {
        let client = call.client
        let names = call.count > 1 ? (1..<call.count).map { call.args.bytes($0) } : (pattern ? client.patterns : client.channels)
        let kind: StaticString = pattern ? "punsubscribe" : "unsubscribe"
        if names.isEmpty { return confirm(call.reply, kind, nil, client.subscriptionCount) }
        for name in names {
            unsubscribe(client, name, pattern: pattern)
            confirm(call.reply, kind, name, client.subscriptionCount)
        }
    }

    private func unsubscribe(_ client: Client, _ name: [UInt8], pattern: Bool) {
        if pattern {
            guard let index = client.patterns.firstIndex(of: name) else { return }
            client.patterns.remove(at: index)
            PubSubRegistry.remove(client, from: &pubsub.patterns, name)
        } else {
            guard let index = client.channels.firstIndex(of: name) else { return }
            client.channels.remove(at: index)
            PubSubRegistry.remove(client, from: &pubsub.channels, name)
        }
    }

    /// On close and RESET: every subscription goes, without confirmations.
    func unsubscribeAll(_ client: Client) {
        for name in client.channels { PubSubRegistry.remove(client, from: &pubsub.channels, name) }
        for name in client.patterns { PubSubRegistry.remove(client, from: &pubsub.patterns, name) }
        client.channels.removeAll()
        client.patterns.removeAll()
    }

    /// Delivers a message; returns how many subscriptions received it.
    func publish(channel: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Int {
        var receivers = 0
        if let subscribers = pubsub.channels[Array(channel)] {
            for client in subscribers where !client.closeNow {
                let reply = writer(for: client)
                reply.pushHeader(3)
                reply.bulk("message")
                reply.bulk(channel)
                reply.bulk(message)
                checkOutputLimits(client)
                receivers += 1
            }
        }
        for (pattern, subscribers) in pubsub.patterns
        where pattern.withUnsafeBytes({ Glob.matches($0, channel) }) {
            for client in subscribers where !client.closeNow {
                let reply = writer(for: client)
                reply.pushHeader(4)
                reply.bulk("pmessage")
                reply.bulk(pattern)
                reply.bulk(channel)
                reply.bulk(message)
                checkOutputLimits(client)
                receivers += 1
            }
        }
        return receivers
    }
}

/// The pub/sub commands.
enum PubSubCommands {
    static func subscribe(_ call: Call) { call.server.subscribe(call, pattern: false) }
    static func psubscribe(_ call: Call) { call.server.subscribe(call, pattern: true) }
    static func unsubscribe(_ call: Call) { call.server.unsubscribe(call, pattern: false) }
    static func punsubscribe(_ call: Call) { call.server.unsubscribe(call, pattern: true) }

    static func publish(_ call: Call) {
        call.reply.integer(call.server.publish(channel: call.args[1], message: call.args[2]))
    }

    /// PUBSUB CHANNELS [pattern]
    static func channels(_ call: Call) {
        if call.count > 3 { return call.subcommandSyntaxError() }
        let pattern = call.count == 3 ? call.args.bytes(2) : nil
        let names = call.server.pubsub.channels.keys.filter { name in
            guard let pattern else { return true }
            return pattern.withUnsafeBytes { p in name.withUnsafeBytes { Glob.matches(p, $0) } }
        }
        call.reply.arrayHeader(names.count)
        for name in names { call.reply.bulk(name) }
    }

    /// PUBSUB NUMSUB [channel ...]
    static func numsub(_ call: Call) {
        call.reply.arrayHeader((call.count - 2) * 2)  // a flat array in RESP3 too, as Redis 7.0
        for i in 2..<call.count {
            call.reply.bulk(call.args[i])
            call.reply.integer(call.server.pubsub.channels[call.args.bytes(i)]?.count ?? 0)
        }
    }

    static func numpat(_ call: Call) { call.reply.integer(call.server.pubsub.patterns.count) }

    static func help(_ call: Call) {
        HelpText.reply(call, command: "PUBSUB", lines: [
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
        ])
    }
}
