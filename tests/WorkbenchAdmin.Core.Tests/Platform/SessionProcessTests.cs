using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

public sealed class SessionProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A descriptor the host opened without close-on-exec (as native libraries do) must not reach a custom
    /// script. The script execs sleep, and the test reads that process's /proc/PID/fd from outside, so the
    /// listing holds exactly what was inherited: nothing of the shell (its script descriptor is
    /// close-on-exec) and nothing the listing itself opens. Only 0 (/dev/null), 1 and 2 (our pipes) may be there.
    /// </summary>
    [Theory]
    [InlineData(true)]   // posix_spawn_file_actions_addclosefrom_np (glibc 2.34+; the fallback where this libc lacks it)
    [InlineData(false)]  // the fallback for older glibc: close each descriptor open without close-on-exec
    public void AScriptInheritsOnlyStandardInputOutputAndError(bool closeFrom)
    {
        var leaked = Posix.OpenInheritable(_dir.Write("held-by-host", "secret"), atLeast: 251);
        try
        {
            Assert.Equal(new[] { 0, 1, 2 }, InheritedDescriptors(closeFrom));
        }
        finally
        {
            Posix.Close(leaked);
        }
    }

    private int[] InheritedDescriptors(bool closeFrom)
    {
        var pidFile = _dir.File("pid");
        var script = Scripts.Write(_dir, "fds.sh", $"#!/bin/sh\necho $$ > '{pidFile}'\nexec sleep 30\n");
        var run = Task.Run(() => SessionProcess.Run(script, new Dictionary<string, string>(), TimeSpan.FromSeconds(20), 1024, 1024, CancellationToken.None, closeFrom));
        var pid = Scripts.ReadPid(pidFile, TimeSpan.FromSeconds(10));
        try
        {
            // Until sleep has started (and closed whatever it opened to start), the listing may change.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            int[] fds;
            do
            {
                Thread.Sleep(20);
                fds = File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep"
                    ? Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(f => int.Parse(Path.GetFileName(f))).Order().ToArray()
                    : [];
            }
            while (!fds.SequenceEqual([0, 1, 2]) && DateTime.UtcNow < deadline);
            return fds;
        }
        finally
        {
            UnixFile.KillProcessGroup(pid);
            Assert.Equal(SessionProcessEnd.Exited, run.Wait(TimeSpan.FromSeconds(10)) ? run.Result.End : SessionProcessEnd.TimedOut);
        }
    }
}
