import JobdSystem
import Glibc

/// CONFIG REWRITE: updates directive lines in the config file in place,
/// keeps comments and order, appends settings that differ from defaults,
/// and replaces the file atomically (write a temp file, fsync, rename).
enum ConfigRewriter {
    struct RewriteError: Error, CustomStringConvertible { let description: String }

    static func rewrite(path: String, config: ServerConfig) throws {
        let original = FileDescriptor.readTextFile(path) ?? ""
        let defaults = ServerConfig()
        var written = Set<String>()
        var lines: [String] = []
        for line in original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard !trimmed.hasPrefix("#"), let name = trimmed.split(separator: " ").first.map({ $0.lowercased() }),
                  let directive = ConfigDirectives.find(name), !directive.repeatable else {
                lines.append(line)
                continue
            }
            if written.insert(directive.name).inserted {
                lines.append("\(directive.name) \(ConfigLoader.quote(directive.get(config)))")
            }
        }
        for directive in ConfigDirectives.all where !written.contains(directive.name) && !directive.repeatable {
            let value = directive.get(config)
            if value != directive.get(defaults) { lines.append("\(directive.name) \(ConfigLoader.quote(value))") }
        }
        var text = lines.joined(separator: "\n")
        if !text.hasSuffix("\n") { text += "\n" }
        let temporary = path + ".tmp-rewrite"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RewriteError(description: "cannot open \(temporary)") }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { try FileDescriptor.writeAll(fd, UnsafeRawBufferPointer($0)) }
        fsync(fd)
        guard rename(temporary, path) == 0 else { throw RewriteError(description: "cannot rename \(temporary)") }
    }
}
