import Testing
@testable import JobdServer

/// The HTTP parser refuses whatever a lenient parser would have to guess
/// about, and answers oversize input with the status nginx and Apache use.
@Suite struct HTTPRequestParserTests {
    func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPRequestParser.Result {
        var parser = HTTPRequestParser()
        parser.limits = limits
        return Array(text.utf8).withUnsafeBytes { parser.parse($0) }
    }

    func status(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
        if case let .failure(status, _) = parse(text, limits: limits) { return status }
        return nil
    }

    @Test func aSimpleGetParses() throws {
        guard case let .request(request, consumed) = parse("GET /api/queues?count=5&x=a%20b HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\nextra") else {
            Issue.record("not parsed")
            return
        }
        #expect(request.method == "GET")
        #expect(request.path == "/api/queues")
        #expect(request.queryValue("count") == "5")
        #expect(request.queryValue("x") == "a b")
        #expect(request.header("x-a") == "v")
        #expect(request.keepAlive)
        #expect(consumed == "GET /api/queues?count=5&x=a%20b HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\n".utf8.count)
    }

    @Test func aBodyIsReadByContentLength() {
        let text = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        guard case let .request(request, consumed) = parse(text) else { Issue.record("not parsed"); return }
        #expect(request.body == Array("hello".utf8))
        #expect(consumed == text.utf8.count)
        if case .incomplete = parse(String(text.dropLast())) {} else { Issue.record("should wait for the body") }
    }

    @Test func connectionRulesFollowTheVersion() {
        guard case let .request(old, _) = parse("GET / HTTP/1.0\r\n\r\n"),
              case let .request(oldKept, _) = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
              case let .request(closed, _) = parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(!old.keepAlive)
        #expect(oldKept.keepAlive)
        #expect(!closed.keepAlive)
    }

    @Test func partialInputWaits() {
        for text in ["", "GET", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: x\r\n"] {
            if case .incomplete = parse(text) {} else { Issue.record("\(text.debugDescription) should be incomplete") }
        }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: x\n\n", 400),                     // bare LF
        ("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400),         // LF inside the head
        ("GET / HTTP/1.1\r\n\r\n", 400),                           // no Host in 1.1
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),              // two spaces
        ("get / HTTP/1.1\r\nHost: x\r\n\r\n", 400),               // lowercase method
        ("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),       // absolute form
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("GET / FOO/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),              // space before the colon
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),    // obsolete folding
        ("GET / HTTP/1.1\r\nHost: x\u{1}\r\n\r\n", 400),          // control byte
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
    ])
    func badRequestsAreRefused(text: String, expected: Int) {
        #expect(status(text) == expected)
    }

    @Test func limitsGiveTheirStatus() {
        var limits = HTTPLimits()
        limits.maxRequestLine = 64
        limits.maxHeaderBytes = 256
        limits.maxHeaderCount = 3
        #expect(status("GET /" + String(repeating: "a", count: 100), limits: limits) == 414)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 300), limits: limits) == 431)
        let many = (0..<5).map { "X\($0): y\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\n" + many + "\r\n", limits: limits) == 431)
    }

    @Test func percentDecoding() {
        #expect(HTTPRequestParser.percentDecoded("a%2Fb%20c") == "a/b c")
        #expect(HTTPRequestParser.percentDecoded("%E2%9C%93") == "✓")
        #expect(HTTPRequestParser.percentDecoded("%zz") == nil)
        #expect(HTTPRequestParser.percentDecoded("%4") == nil)
        #expect(HTTPRequestParser.percentDecoded("%FF") == nil)  // not UTF-8
    }

    @Test func jsonEscapesWhatCouldBreakOutOfAPage() {
        let value = JSONValue.object([("s", .string("</script>\"\\\n\u{1}")), ("n", .null), ("d", .double(1.5)), ("i", .integer(-3))])
        #expect(value.encoded == #"{"s":"\u003c/script\u003e\"\\\n\u0001","n":null,"d":1.5,"i":-3}"#)
        #expect(JSONValue.double(.nan).encoded == "null")
    }
}
