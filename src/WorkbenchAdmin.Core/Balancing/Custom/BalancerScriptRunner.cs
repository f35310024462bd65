using System.Text;
using Microsoft.Extensions.Logging;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Balancing.Custom;

/// <summary>How to run a custom balancer script.</summary>
public sealed record BalancerScriptOptions(string ScriptPath)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    public TimeSpan Timeout { get; init; } = DefaultTimeout;
    /// <summary>Output beyond this is a failure: a node name is short, a flood is a broken script.</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024;
}

/// <summary>
/// Runs a custom balancer script with RSTUDIO_USERNAME and RSTUDIO_NODES added to the inherited
/// environment: directly (posix_spawn, no shell, no arguments), so the user name only ever travels in the
/// environment. The script leads its own session and process group, and that whole group is killed when
/// it exits, times out or floods its output: nothing it spawned outlives the decision.
/// </summary>
public static class BalancerScriptRunner
{
    private static readonly ILogger Log = Logging.CommandLog.For<CustomScriptPolicy>();
    private const int StderrKept = 4096;
    internal const int Quoted = 200;

    /// <summary>
    /// Runs as root on every node: a script, or a directory or link on its way, that someone else can change
    /// would let them run anything as root. Refused before it runs, naming what is unsafe.
    /// </summary>
    private static void CheckTrusted(string script)
    {
        if ((TrustedPath.WhyUntrusted(script) ?? WhyInterpreterUntrusted(script, Environment.GetEnvironmentVariable("PATH"))) is { } why)
            throw new BalancerScriptException(BalancerScriptFailure.Unsafe, script,
                $"is not run: {why}, and whoever can change it could run anything as {UnixFile.TrustedOwners}. " +
                "Keep the script and its #! interpreter root-owned, not writable by group or others, in directories only root can change.");
    }

    /// <summary>The kernel reads at most this much of a #! line (BINPRM_BUF_SIZE).</summary>
    private const int ShebangBytes = 256;
    /// <summary>How deep the kernel follows an interpreter that is itself a #! script.</summary>
    private const int MaxInterpreterDepth = 4;

    /// <summary>
    /// Why what would really run the script could be changed by someone else: its #! interpreter (the script is only
    /// its input), and an interpreter's own interpreter, each held to the script's rule. <c>#!/usr/bin/env NAME</c> runs
    /// the NAME that <paramref name="pathVariable"/> (the PATH the script inherits, which env searches) leads to first:
    /// that file is checked, and so is every PATH directory searched before it, where someone could put a NAME of their
    /// own. env's options and NAME=VALUE assignments are refused rather than interpreted. Null when all is safe.
    /// </summary>
    internal static string? WhyInterpreterUntrusted(string script, string? pathVariable)
    {
        var current = script;
        for (var depth = 0; depth < MaxInterpreterDepth; depth++)
        {
            if (ReadShebang(current) is not { } line) return null;
            var (interpreter, argument) = line;
            if (interpreter.Length == 0) return $"{current} has a #! line that names no interpreter";
            if (!interpreter.StartsWith('/')) return $"the #! interpreter '{SafeText.Quote(interpreter)}' of {current} is not an absolute path";
            if (TrustedPath.WhyUntrusted(interpreter) is { } why) return $"its #! interpreter {interpreter} is not safe: {why}";
            current = interpreter;
            if (Path.GetFileName(interpreter) == "env" && argument is not null)
            {
                if (argument.StartsWith('-') || argument.Contains('=') || argument.Any(char.IsWhiteSpace))
                    return $"its #! line runs env with '{SafeText.Quote(argument)}': only '#!{interpreter} NAME' is followed (name the interpreter's path instead)";
                var (found, whyPath) = FindOnPath(argument, pathVariable);
                if (whyPath is not null) return $"its #! line runs '{SafeText.Quote(argument)}' through env, and {whyPath}";
                if (found is null) return null; // env finds nothing: the script fails to start, and says so
                if (TrustedPath.WhyUntrusted(found) is { } whyFound) return $"its #! line runs {found} through env, which is not safe: {whyFound}";
                current = found;
            }
        }
        return $"its #! interpreters lead more than {MaxInterpreterDepth} deep";
    }

    /// <summary>The interpreter and its one argument (the rest of the line), as the kernel splits a #! line; null without one.</summary>
    private static (string Interpreter, string? Argument)? ReadShebang(string path)
    {
        var head = new byte[ShebangBytes];
        int length;
        try
        {
            using var file = File.OpenRead(path);
            length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; } // not readable: it does not start either
        if (length < 2 || head[0] != '#' || head[1] != '!') return null;
        var end = Array.IndexOf(head, (byte)'\n', 2, length - 2);
        var text = Encoding.UTF8.GetString(head, 2, (end < 0 ? length : end) - 2).Trim(' ', '\t', '\r');
        var split = text.IndexOfAny([' ', '\t']);
        if (split < 0) return (text, null);
        var argument = text[split..].Trim(' ', '\t');
        return (text[..split], argument.Length == 0 ? null : argument);
    }

    /// <summary>Where execvp, as env calls it, finds <paramref name="name"/>; or why a directory it searches first could be given one by someone else.</summary>
    private static (string? Found, string? Why) FindOnPath(string name, string? pathVariable)
    {
        if (name.Contains('/')) return (Path.GetFullPath(name), null);
        // glibc's execvp searches /bin:/usr/bin when PATH is unset.
        foreach (var entry in (pathVariable ?? "/bin:/usr/bin").Split(':'))
        {
            if (!entry.StartsWith('/'))
                return (null, $"PATH holds '{SafeText.Quote(entry)}' before it is found: the current directory would decide what runs");
            if (TrustedPath.WhyUntrusted(entry) is { } why)
                return (null, $"PATH leads through {entry} first, where someone else could put a '{SafeText.Quote(name)}': {why}");
            var candidate = Path.Join(entry, name);
            if (UnixFile.IsExecutable(candidate)) return (candidate, null);
        }
        return (null, null);
    }

    /// <summary>Runs the script and returns its trimmed, single-line answer.</summary>
    public static string Run(BalancerScriptOptions options, string userName, string nodes, CancellationToken cancel)
    {
        var script = options.ScriptPath;
        if (!File.Exists(script))
            throw new BalancerScriptException(BalancerScriptFailure.NotFound, script, "does not exist.");
        if (!UnixFile.IsExecutable(script))
            throw new BalancerScriptException(BalancerScriptFailure.NotExecutable, script, "is not executable by this user (chmod +x, and check its directory).");
        CheckTrusted(script);

        SessionProcessResult run;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            run = SessionProcess.Run(script, new Dictionary<string, string>
            {
                ["RSTUDIO_USERNAME"] = userName,
                ["RSTUDIO_NODES"] = nodes,
            }, options.Timeout, options.MaxOutputBytes, StderrKept, cancel);
        }
        catch (IOException e)
        {
            var hint = e is SpawnException { Errno: SpawnException.NotExecutableFormat } ? " Does it begin with a #! line such as #!/bin/bash?" : "";
            throw new BalancerScriptException(BalancerScriptFailure.StartFailed, script, $"could not be started: {e.Message}.{hint}", e);
        }

        Log.LogInformation("ran {Script} for {User} with RSTUDIO_NODES={Nodes}: {End}, exit {Exit}, {Bytes} bytes out, {Ms:0.0} ms",
            script, userName, nodes, run.End, run.ExitCode, run.Output.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        switch (run.End)
        {
            case SessionProcessEnd.Stopped:
                throw new OperationCanceledException(cancel);
            case SessionProcessEnd.TimedOut:
                throw new BalancerScriptException(BalancerScriptFailure.Timeout, script,
                    $"gave no answer within {options.Timeout.TotalSeconds:0.###} s; it and every process it started were killed.");
            case SessionProcessEnd.OutputTooLarge:
                throw new BalancerScriptException(BalancerScriptFailure.OutputTooLarge, script, $"printed more than {options.MaxOutputBytes} bytes; it was stopped.");
        }
        if (run.ExitCode != 0)
        {
            var stderr = run.ErrorHead.Trim();
            var how = run.Signal is { } signal ? $"was killed by signal {signal}" : $"exited with code {run.ExitCode}";
            throw new BalancerScriptException(BalancerScriptFailure.NonZeroExit, script,
                $"{how}{(stderr.Length > 0 ? $"; stderr: \"{SafeText.Quote(stderr, Quoted)}\"" : "; it wrote nothing to stderr")}.");
        }

        var answer = Encoding.UTF8.GetString(run.Output).Trim();
        if (answer.Length == 0)
            throw new BalancerScriptException(BalancerScriptFailure.EmptyOutput, script, "printed nothing; it must print the chosen node as it appears in RSTUDIO_NODES.");
        if (answer.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new BalancerScriptException(BalancerScriptFailure.MultipleLines, script, $"printed more than one line: \"{SafeText.Quote(answer, Quoted)}\"; it must print exactly one node.");
        return answer;
    }

}
