using System.ComponentModel;
using System.Diagnostics;
using System.Text;
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
/// environment: directly, with no shell, and with the user name only in the environment. The script runs
/// in its own session and process group (through setsid(1)), so that on a timeout, and after it exits,
/// every process it started is killed with it: nothing it spawned outlives the decision.
/// </summary>
public static class BalancerScriptRunner
{
    private const int StderrKept = 4096;
    private const int Quoted = 200;
    private static readonly string? SetSid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>Runs the script and returns its trimmed, single-line answer.</summary>
    public static string Run(BalancerScriptOptions options, string userName, string nodes)
    {
        var script = options.ScriptPath;
        if (!File.Exists(script))
            throw new BalancerScriptException(BalancerScriptFailure.NotFound, script, "does not exist.");
        if (!UnixFile.IsExecutable(script))
            throw new BalancerScriptException(BalancerScriptFailure.NotExecutable, script, "is not executable by this user (chmod +x, and check its directory).");

        if (!HasInterpreterOrIsBinary(script))
            throw new BalancerScriptException(BalancerScriptFailure.StartFailed, script,
                "is neither a program nor a script with a #! interpreter line (Exec format error); add one such as #!/bin/bash.");

        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(script)) ?? "/",
        };
        if (SetSid is not null)
        {
            start.FileName = SetSid;
            start.ArgumentList.Add(script);
        }
        else
        {
            start.FileName = script;
        }
        start.Environment["RSTUDIO_USERNAME"] = userName;
        start.Environment["RSTUDIO_NODES"] = nodes;

        using var process = new Process { StartInfo = start };
        try { process.Start(); }
        catch (Win32Exception e)
        {
            throw new BalancerScriptException(BalancerScriptFailure.StartFailed, script, $"could not be started: {e.Message} (does it begin with a #! line?)", e);
        }
        // Group id equals the pid when setsid made the script a session leader.
        var group = SetSid is not null ? process.Id : 0;
        try { process.StandardInput.Close(); } catch (IOException) { }

        using var stop = new CancellationTokenSource();
        var stdout = ReadCapped(process.StandardOutput.BaseStream, options.MaxOutputBytes, stop);
        var stderr = ReadHead(process.StandardError.BaseStream, StderrKept);

        bool exited;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
        {
            timeout.CancelAfter(options.Timeout);
            try { process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult(); exited = true; }
            catch (OperationCanceledException) { exited = false; }
        }

        KillEverything(process, group);
        var output = Finish(stdout);
        var errorText = Finish(stderr);

        if (!exited && stdout.IsCompletedSuccessfully && stdout.Result.Overflow)
            throw new BalancerScriptException(BalancerScriptFailure.OutputTooLarge, script, $"printed more than {options.MaxOutputBytes} bytes; it was stopped.");
        if (!exited)
            throw new BalancerScriptException(BalancerScriptFailure.Timeout, script,
                $"gave no answer within {options.Timeout.TotalSeconds:0.###} s; it and every process it started were killed.");
        if (output.Overflow)
            throw new BalancerScriptException(BalancerScriptFailure.OutputTooLarge, script, $"printed more than {options.MaxOutputBytes} bytes.");
        if (process.ExitCode != 0)
        {
            var tail = errorText.Text.Trim();
            throw new BalancerScriptException(BalancerScriptFailure.NonZeroExit, script,
                $"exited with code {process.ExitCode}{(tail.Length > 0 ? $"; stderr: \"{Quote(tail)}\"" : "; it wrote nothing to stderr")}.");
        }

        var answer = output.Text.Trim();
        if (answer.Length == 0)
            throw new BalancerScriptException(BalancerScriptFailure.EmptyOutput, script, "printed nothing; it must print the chosen node as it appears in RSTUDIO_NODES.");
        if (answer.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new BalancerScriptException(BalancerScriptFailure.MultipleLines, script, $"printed more than one line: \"{Quote(answer)}\"; it must print exactly one node.");
        return answer;
    }

    /// <summary>
    /// execvp (inside setsid) would hand a file without "#!" to /bin/sh; Workbench executes the script
    /// itself, so such a file is refused here rather than run through a shell.
    /// </summary>
    private static bool HasInterpreterOrIsBinary(string path)
    {
        Span<byte> head = stackalloc byte[4];
        try
        {
            using var stream = File.OpenRead(path);
            var n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            return (n >= 2 && head[0] == '#' && head[1] == '!') || (n == 4 && head.SequenceEqual((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']));
        }
        catch (UnauthorizedAccessException)
        {
            return true; // execute-only: the kernel decides
        }
    }

    internal static string Quote(string text)
    {
        var oneLine = text.Replace("\r", "\\r").Replace("\n", "\\n");
        return oneLine.Length <= Quoted ? oneLine : oneLine[..Quoted] + "…";
    }

    private static void KillEverything(Process process, int group)
    {
        // Descendants still in the tree first (walking the tree needs them alive), then the whole group,
        // which also catches children the script left behind when it exited.
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException) { }
        if (group > 0) UnixFile.KillProcessGroup(group);
        try { process.WaitForExit(5000); } catch (InvalidOperationException) { }
    }

    private readonly record struct Captured(string Text, bool Overflow);

    private static Captured Finish(Task<Captured> reader)
    {
        // After the kill every writer is gone, so the pipe reaches end of file at once; the bound is a guard.
        return reader.Wait(TimeSpan.FromSeconds(5)) ? reader.Result : new Captured("", false);
    }

    private static async Task<Captured> ReadCapped(Stream stream, int cap, CancellationTokenSource onOverflow)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > cap)
            {
                onOverflow.Cancel();
                return new Captured("", true);
            }
        }
        return new Captured(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), false);
    }

    private static async Task<Captured> ReadHead(Stream stream, int keep)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            // Keep the start, drain the rest so the script never blocks on a full stderr pipe.
            if (buffer.Length < keep) buffer.Write(chunk, 0, (int)Math.Min(n, keep - buffer.Length));
        }
        return new Captured(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), false);
    }
}
