import Testing
@testable import JobdServer

/// The dashboard document as assembled from its parts: complete, self-contained,
/// and with no route by which server text could become markup. (What it shows
/// in a browser is tested in Tests/Integration/test_dashboard.py.)
@Suite struct DashboardPageTests {
    let html = DashboardPage.html

    func count(_ needle: String, in text: String) -> Int {
        text.ranges(of: needle).count
    }

    @Test func partsAreAssembled() {
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(!html.contains("\\#("), "an interpolation was left unexpanded")
        #expect(html.contains(DashboardPage.style))
        #expect(html.contains(DashboardPage.render))
        #expect(html.contains(DashboardPage.script))
    }

    /// One style and one script element: the inline code must never contain
    /// a closing tag that would end its element early.
    @Test func inlineCodeCannotCloseItsElement() {
        #expect(count("<script", in: html) == 1)
        #expect(count("</script", in: html) == 1)
        #expect(count("<style", in: html) == 1)
        #expect(count("</style", in: html) == 1)
        #expect(!DashboardPage.script.contains("</"))
        #expect(!DashboardPage.render.contains("</"))
    }

    /// No CDN, no web fonts: the only URL is the SVG namespace.
    @Test func loadsNothingFromElsewhere() {
        let svgNamespace = "http://www.w3.org/2000/svg"
        #expect(count("http://", in: html) == count(svgNamespace, in: html))
        #expect(!html.contains("https://"))
        #expect(!html.contains("@import"))
        #expect(!html.contains("url("))
    }

    /// Server text reaches the page only as text nodes and attribute values.
    @Test func neverParsesStringsAsMarkup() {
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!html.contains(sink), "the page uses \(sink)")
        }
        #expect(!html.contains("alert("), "messages go next to the button, not in alert()")
    }

    @Test func readableOnAPhone() {
        #expect(html.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
        #expect(html.contains("@media (max-width: 600px)"))
        #expect(html.contains("prefers-color-scheme: dark"))
    }

    /// The hooks the integration test and operators' scripts rely on.
    @Test func stableHooks() {
        for hook in [#"id="server-status""#, "'data-queue'", "'data-job-id'", "'data-field'", #"id="auth-form""#,
                     #"id="queue-detail""#, #"id="job-form""#] {
            #expect(html.contains(hook), "missing hook \(hook)")
        }
    }
}
