/**
 * skiff's command line: the commands, the flags each takes and their usage text, and the
 * parser that checks a command line before anything runs.
 * @module
 */
export { COMMANDS, type CommandSpec, type FlagSpec, usage } from "./commands.ts";
export { type CommandLine, parseCommandLine, UsageError } from "./parse_command_line.ts";
