import JobdRESP
import JobdStore
import JobdSystem

/// ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the
/// ZREMRANGEBY* commands, with Redis 7.0's parsing order and errors.
enum SortedSetRanges {
    enum Kind { case rank, score, lex }

    /// "(1.5", "-inf", "3": a score bound; nil when not a float (or NaN).
    static func parseScoreBound(_ bytes: UnsafeRawBufferPointer) -> (Double, exclusive: Bool)? {
        let exclusive = bytes.first == UInt8(ascii: "(")
        let text = exclusive ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
        guard let value = Numbers.parseRangeDouble(text) else { return nil }
        return (value, exclusive)
    }

    static func scoreRange(_ call: Call, _ minIndex: Int, _ maxIndex: Int) -> ScoreList.ScoreRange? {
        guard let min = parseScoreBound(call.args[minIndex]), let max = parseScoreBound(call.args[maxIndex]) else {
            call.reply.error("ERR min or max is not a float")
            return nil
        }
        return ScoreList.ScoreRange(min: min.0, minExclusive: min.exclusive, max: max.0, maxExclusive: max.exclusive)
    }

    /// "-", "+", "[member", "(member".
    static func parseLexBound(_ bytes: UnsafeRawBufferPointer) -> ScoreList.LexBound? {
        guard let first = bytes.first else { return nil }
        let rest = Array(bytes.dropFirst())
        switch first {
        case UInt8(ascii: "-") where bytes.count == 1: return .negativeInfinity
        case UInt8(ascii: "+") where bytes.count == 1: return .positiveInfinity
        case UInt8(ascii: "["): return .inclusive(rest)
        case UInt8(ascii: "("): return .exclusive(rest)
        default: return nil
        }
    }

    static func lexRange(_ call: Call, _ minIndex: Int, _ maxIndex: Int) -> ScoreList.LexRange? {
        guard let min = parseLexBound(call.args[minIndex]), let max = parseLexBound(call.args[maxIndex]) else {
            call.reply.error("ERR min or max not valid string range item")
            return nil
        }
        return ScoreList.LexRange(min: min, max: max)
    }

    /// The ranks (ascending) a request selects, before LIMIT.
    static func rankSpan(_ zset: SortedSetValue, kind: Kind, start: Int, end: Int,
                         score: ScoreList.ScoreRange?, lex: ScoreList.LexRange?, reverse: Bool) -> ClosedRange<Int>? {
        let n = zset.count
        switch kind {
        case .rank:
            var s = start < 0 ? start + n : start, e = end < 0 ? end + n : end
            if s < 0 { s = 0 }
            guard s <= e, s < n else { return nil }
            e = min(e, n - 1)
            // REV counts ranks from the end.
            return reverse ? (n - 1 - e)...(n - 1 - s) : s...e
        case .score:
            guard let range = score, !range.isEmpty, let first = zset.order.firstRank(in: range),
                  let last = zset.order.lastRank(in: range), first <= last else { return nil }
            return first...last
        case .lex:
            guard let range = lex, !range.isEmpty, let first = zset.order.firstRank(in: range),
                  let last = zset.order.lastRank(in: range), first <= last else { return nil }
            return first...last
        }
    }

    struct Request {
        var kind: Kind
        var reverse: Bool
        var withScores = false
        var offset = 0
        var limit = -1
        var start = 0, end = 0
        var score: ScoreList.ScoreRange?
        var lex: ScoreList.LexRange?
    }

    /// Parses `src min max [options]` starting at `keyIndex` (the source key), as zrangeGenericCommand.
    static func parse(_ call: Call, keyIndex: Int, kind fixedKind: Kind?, reverse fixedReverse: Bool?,
                      store: Bool) -> Request? {
        var kind = fixedKind, reverse = fixedReverse
        var withScores = false
        var offset = 0, limit = -1
        var j = keyIndex + 3
        while j < call.count {
            let left = call.count - j - 1
            if !store && call.args.matches(j, "WITHSCORES") {
                withScores = true
            } else if call.args.matches(j, "LIMIT") && left >= 2 {
                guard let o = call.integer(j + 1), let l = call.integer(j + 2) else { return nil }
                offset = Int(o)
                limit = Int(l)
                j += 2
            } else if fixedReverse == nil && reverse == nil && call.args.matches(j, "REV") {
                reverse = true
            } else if fixedKind == nil && kind == nil && call.args.matches(j, "BYLEX") {
                kind = .lex
            } else if fixedKind == nil && kind == nil && call.args.matches(j, "BYSCORE") {
                kind = .score
            } else {
                call.syntaxError()
                return nil
            }
            j += 1
        }
        var request = Request(kind: kind ?? .rank, reverse: reverse ?? false)
        request.withScores = withScores
        request.offset = offset
        request.limit = limit
        if limit != -1 && request.kind == .rank {  // Redis looks at the count only
            call.reply.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
            return nil
        }
        if withScores && request.kind == .lex {
            call.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            return nil
        }
        var minIndex = keyIndex + 1, maxIndex = keyIndex + 2
        if request.reverse && request.kind != .rank { swap(&minIndex, &maxIndex) }
        switch request.kind {
        case .rank:
            guard let s = call.integer(minIndex), let e = call.integer(maxIndex) else { return nil }
            request.start = Int(s)
            request.end = Int(e)
        case .score:
            guard let range = scoreRange(call, minIndex, maxIndex) else { return nil }
            request.score = range
        case .lex:
            guard let range = lexRange(call, minIndex, maxIndex) else { return nil }
            request.lex = range
        }
        return request
    }

    /// The selected elements, in reply order, LIMIT applied.
    static func select(_ zset: SortedSetValue, _ request: Request) -> [(Double, [UInt8])] {
        guard let span = rankSpan(zset, kind: request.kind, start: request.start, end: request.end,
                                  score: request.score, lex: request.lex, reverse: request.reverse) else { return [] }
        if request.offset < 0 { return [] }
        var skip = request.kind == .rank ? 0 : request.offset
        var remaining = request.limit < 0 || request.kind == .rank ? Int.max : request.limit
        var result: [(Double, [UInt8])] = []
        let from = request.reverse ? zset.count - 1 - span.upperBound : span.lowerBound
        var left = span.count
        zset.order.forEach(fromRank: from, reverse: request.reverse) { score, member in
            guard left > 0, remaining > 0 else { return false }
            left -= 1
            if skip > 0 { skip -= 1; return true }
            result.append((score, member))
            remaining -= 1
            return true
        }
        return result
    }

    static func replyElements(_ call: Call, _ elements: [(Double, [UInt8])], withScores: Bool) {
        let pairs = withScores && call.reply.isRESP3
        call.reply.arrayHeader(withScores && !pairs ? elements.count * 2 : elements.count)
        for (score, member) in elements {
            if pairs { call.reply.arrayHeader(2) }
            call.reply.bulk(member)
            if withScores { call.reply.double(score) }
        }
    }

    /// ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
    static func zrange(_ call: Call) {
        let name = call.spec.name
        let kind: Kind? = name.hasSuffix("byscore") ? .score : name.hasSuffix("bylex") ? .lex : (name == "zrange" ? nil : .rank)
        let reverse: Bool? = name == "zrange" ? nil : name.hasPrefix("zrev")
        guard let request = parse(call, keyIndex: 1, kind: kind, reverse: reverse, store: false) else { return }
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: call.reply.emptyArray()
        case let .found(_, zset): replyElements(call, select(zset, request), withScores: request.withScores)
        }
    }

    /// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
    static func zrangestore(_ call: Call) {
        guard let request = parse(call, keyIndex: 2, kind: nil, reverse: nil, store: true) else { return }
        var elements: [(Double, [UInt8])] = []
        switch call.sortedSet(2) {
        case .wrongType: return
        case .missing: break
        case let .found(_, zset): elements = select(zset, request)
        }
        if elements.isEmpty { return call.storeResult(nil, size: 0) }
        let result = SortedSetValue()
        for (score, member) in elements { member.withUnsafeBytes { _ = result.set($0, score: score) } }
        call.storeResult(.zset(result), size: elements.count)
    }

    /// ZCOUNT key min max, ZLEXCOUNT key min max
    static func zcount(_ call: Call) {
        let lex = call.spec.name == "zlexcount"
        let score = lex ? nil : scoreRange(call, 2, 3)
        let lexRange = lex ? self.lexRange(call, 2, 3) : nil
        if score == nil && lexRange == nil { return }
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, zset):
            call.reply.integer(score.map { $0.isEmpty ? 0 : zset.order.count(in: $0) }
                               ?? (lexRange!.isEmpty ? 0 : zset.order.count(in: lexRange!)))
        }
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX key min max
    static func zremrange(_ call: Call) {
        let name = call.spec.name
        let kind: Kind = name.hasSuffix("byrank") ? .rank : name.hasSuffix("byscore") ? .score : .lex
        var request = Request(kind: kind, reverse: false)
        switch kind {
        case .rank:
            guard let s = call.integer(2), let e = call.integer(3) else { return }
            request.start = Int(s)
            request.end = Int(e)
        case .score:
            guard let range = scoreRange(call, 2, 3) else { return }
            request.score = range
        case .lex:
            guard let range = lexRange(call, 2, 3) else { return }
            request.lex = range
        }
        let entry: KeyEntry, zset: SortedSetValue
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(e, z): entry = e; zset = z
        }
        guard let span = rankSpan(zset, kind: kind, start: request.start, end: request.end,
                                  score: request.score, lex: request.lex, reverse: false) else { return call.reply.integer(0) }
        let removed = zset.removeRanks(span.lowerBound, span.upperBound)
        if zset.isEmpty { call.db.remove(entry) }
        if removed > 0 { call.logAsIs() }
        call.reply.integer(removed)
    }
}
