namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>Writes real executable scripts into a temp directory, and checks on the processes they start.</summary>
public static class Scripts
{
    public static string Write(TempDirectory dir, string name, string body, bool executable = true)
    {
        var path = dir.Write(name, body.Replace("\r\n", "\n"));
        if (executable) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>True once the process is gone or a zombie (dead, waiting to be reaped), polling up to <paramref name="within"/>.</summary>
    public static bool IsGone(int pid, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
            catch (IOException) { return true; }
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            if (state is "Z" or "X") return true;
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(20);
        }
    }

    public static int ReadPid(string path, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid)) return pid;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no pid in {path}");
            Thread.Sleep(10);
        }
    }
}
