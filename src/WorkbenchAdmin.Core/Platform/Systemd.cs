using System.Diagnostics;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>A unit's state as <c>systemctl show</c> prints it.</summary>
public sealed record SystemdUnitState(string LoadState, string ActiveState, string UnitFileState)
{
    /// <summary>Reads "Key=Value" lines; a key that is missing reads as "unknown".</summary>
    public static SystemdUnitState Parse(string text)
    {
        var values = text.Split('\n').Select(l => l.Trim().Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Get(string key) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : "unknown";
        return new SystemdUnitState(Get("LoadState"), Get("ActiveState"), Get("UnitFileState"));
    }
}

/// <summary>One systemctl run: its exit code and output, or that it did not finish in time (then it was killed).</summary>
internal sealed record SystemctlRun(string Path, bool TimedOut, int ExitCode, string Output, string Error);

internal static class Systemd
{
    private static readonly string[] Systemctl = ["/usr/bin/systemctl", "/bin/systemctl"];

    /// <summary>Whether systemd manages this machine (sd_booted(3)).</summary>
    public static bool IsRunning => Directory.Exists("/run/systemd/system");

    /// <summary>
    /// Runs systemctl by absolute path, arguments as a list (no shell), bounded by <paramref name="timeout"/>; null when
    /// there is no systemctl in /usr/bin or /bin.
    /// </summary>
    public static SystemctlRun? Run(TimeSpan timeout, params string[] arguments)
    {
        var path = Systemctl.FirstOrDefault(File.Exists);
        if (path is null) return null;
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new IOException($"{path} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return new SystemctlRun(path, true, -1, "", "");
        }
        return new SystemctlRun(path, false, process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    public static string? Show(string unit)
    {
        if (!IsRunning || Run(TimeSpan.FromSeconds(10), "show", unit, "-p", "LoadState,ActiveState,UnitFileState") is not { } run) return null;
        if (run.TimedOut) throw new IOException($"'{run.Path} show {unit}' did not finish within 10 s");
        return run.ExitCode == 0 ? run.Output : throw new IOException($"'{run.Path} show {unit}' exited with {run.ExitCode}");
    }
}
