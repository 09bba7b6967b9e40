import JobdServer
import JobdSystem
import Glibc

/// jobd's command line: the server, its tools and its client subcommands (CommandLineTool).
let arguments = Array(CommandLine.arguments.dropFirst())
exit(CommandLineTool.run(arguments))
