import Glibc
import JobdPersistence
import JobdSystem

/// `jobd check-aof FILE [--fix] [--yes]`: FILE is a manifest
/// (appendonly.aof.manifest: every file it names is checked) or one log file.
/// Exit status 0 when everything is valid (or was fixed), 1 otherwise.
enum CheckLogCommand {
    static let usage = "usage: jobd check-aof <manifest or .aof file> [--fix] [--yes]"

    static func run(_ arguments: [String]) -> Int32 {
        let fix = arguments.contains("--fix")
        let assumeYes = arguments.contains("--yes") || arguments.contains("-y")
        let paths = arguments.filter { !$0.hasPrefix("-") }
        guard paths.count == 1 else {
            CommandLineTool.printError(usage)
            return 2
        }
        let files: [String]
        do {
            files = try LogChecker.files(for: paths[0])
        } catch {
            CommandLineTool.printError("Cannot read \(paths[0]): \(error)")
            return 1
        }
        var allClean = true
        for (index, path) in files.enumerated() {
            let report: LogChecker.FileReport
            do {
                report = try LogChecker.check(path) { fraction in
                    print("  checking \(path): \(Int(fraction * 100))%")
                }
            } catch {
                CommandLineTool.printError("Cannot read \(path): \(error)")
                return 1
            }
            print("\(path): \(report.size) bytes, \(report.batches) valid batches, \(report.commands) commands")
            guard let bad = report.firstBadOffset else {
                print("  OK")
                continue
            }
            allClean = false
            print("  ERROR: \(report.problem ?? "damaged data")")
            print("  first bad offset: \(bad); \(report.size - bad) bytes after it")
            if index < files.count - 1 {
                print("  note: more files follow this one in the manifest; cutting it loses the order of later writes")
            }
            guard fix else {
                print("  run with --fix to truncate the file to \(bad) bytes (keeping the \(report.batches) valid batches)")
                continue
            }
            if !assumeYes && !confirm("Truncate \(path) to \(bad) bytes, dropping \(report.size - bad) bytes? [y/N] ") {
                print("  not changed")
                continue
            }
            do {
                try LogChecker.truncate(path, to: bad)
                print("  fixed: truncated to \(bad) bytes")
                allClean = true
            } catch {
                CommandLineTool.printError("  could not truncate: \(error)")
                return 1
            }
        }
        return allClean ? 0 : 1
    }

    static func confirm(_ question: String) -> Bool {
        print(question, terminator: "")
        guard let answer = readLine() else { return false }
        return answer.lowercased().hasPrefix("y")
    }
}
