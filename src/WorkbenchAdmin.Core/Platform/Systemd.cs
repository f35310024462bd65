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

internal static class Systemd
{
    private static readonly string[] Systemctl = ["/usr/bin/systemctl", "/bin/systemctl"];

    public static string? Show(string unit)
    {
        if (!Directory.Exists("/run/systemd/system")) return null;
        var path = Systemctl.FirstOrDefault(File.Exists);
        if (path is null) return null;
        // By absolute path, arguments as a list (no shell), bounded in time.
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "show", unit, "-p", "LoadState,ActiveState,UnitFileState" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new IOException($"{path} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(entireProcessTree: true);
            throw new IOException($"'{path} show {unit}' did not finish within 10 s");
        }
        return process.ExitCode == 0 ? output.GetAwaiter().GetResult() : throw new IOException($"'{path} show {unit}' exited with {process.ExitCode}");
    }
}
