/// A text table with columns as wide as their widest cell: names left,
/// numbers right, two spaces between columns.
struct TablePrinter {
    enum Alignment { case left, right }

    struct Column {
        var title: String
        var alignment: Alignment
    }

    let columns: [Column]
    private var rows: [[String]] = []

    init(_ columns: [Column]) { self.columns = columns }

    /// Columns from titles; those named in `rightAligned` hold numbers.
    init(titles: [String], rightAligned: Set<String>) {
        self.init(titles.map { Column(title: $0, alignment: rightAligned.contains($0) ? .right : .left) })
    }

    var isEmpty: Bool { rows.isEmpty }

    mutating func add(_ row: [String]) {
        precondition(row.count == columns.count, "a row has one cell per column")
        rows.append(row)
    }

    /// The header and the rows, without trailing spaces.
    func render() -> [String] {
        let table = [columns.map(\.title)] + rows
        let widths = columns.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let fill = String(repeating: " ", count: widths[index] - cell.count)
                if index > 0 { line += "  " }
                line += columns[index].alignment == .right ? fill + cell : cell + fill
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// At most `width` characters, the last one `…` when something was cut.
    static func truncate(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    /// Bytes as one line of text: control characters and invalid UTF-8
    /// escaped (`\n`, `\x00`), so a payload cannot break the table or the terminal.
    static func printable(_ bytes: [UInt8]) -> String {
        var text = ""
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                offset += encoded.count
                let scalar = Unicode.UTF8.decode(encoded)
                switch scalar {
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case "\\": text += "\\\\"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        text += hexEscape(UInt8(scalar.value))
                    } else if (0x80..<0xA0).contains(scalar.value) {
                        // C1 controls (two bytes in UTF-8) can steer terminals too.
                        text += "\\u{" + String(scalar.value, radix: 16) + "}"
                    } else {
                        text.unicodeScalars.append(scalar)
                    }
                }
            case let .error(length):
                for byte in bytes[offset..<(offset + length)] { text += hexEscape(byte) }
                offset += length
            case .emptyInput:
                return text
            }
        }
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x\(digits[Int(byte >> 4)])\(digits[Int(byte & 15)])"
    }
}

/// Two decimals without Foundation.
func format2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    let sign = hundredths < 0 && hundredths > -100 ? "-" : ""
    return "\(sign)\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
