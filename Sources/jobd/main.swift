import JobdServer
import JobdSystem
import Glibc

/// jobd's command line: `serve`, `version`, `help`.
let arguments = Array(CommandLine.arguments.dropFirst())
exit(CommandLineTool.run(arguments))
