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
        if (TrustedPath.WhyUntrusted(script) is { } why)
            throw new BalancerScriptException(BalancerScriptFailure.Unsafe, script,
                $"is not run: {why}, and whoever can change it could run anything as {UnixFile.TrustedOwners}. " +
                "Keep the script root-owned, not writable by group or others, in directories only root can change.");
    }

    /// <summary>Runs the script and returns its trimmed, single-line answer.</summary>
    public static string Run(BalancerScriptOptions options, string userName, string nodes)
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
            }, options.Timeout, options.MaxOutputBytes, StderrKept);
        }
        catch (IOException e)
        {
            var hint = e.Message.Contains("format", StringComparison.OrdinalIgnoreCase) ? " Does it begin with a #! line such as #!/bin/bash?" : "";
            throw new BalancerScriptException(BalancerScriptFailure.StartFailed, script, $"could not be started: {e.Message}.{hint}", e);
        }

        Log.LogInformation("ran {Script} for {User} with RSTUDIO_NODES={Nodes}: {End}, exit {Exit}, {Bytes} bytes out, {Ms:0.0} ms",
            script, userName, nodes, run.End, run.ExitCode, run.Output.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        switch (run.End)
        {
            case SessionProcessEnd.Stopped:
                throw new OperationCanceledException(Logging.CommandLog.Cancellation);
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
