using System.Runtime.InteropServices;
using System.Text;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>How a <see cref="SessionProcess"/> run ended.</summary>
public enum SessionProcessEnd
{
    Exited,
    TimedOut,
    OutputTooLarge,
    /// <summary>The command was stopped (Ctrl+C); the process group was killed.</summary>
    Stopped,
}

public sealed record SessionProcessResult(SessionProcessEnd End, int ExitCode, int? Signal, byte[] Output, string ErrorHead);

/// <summary>The program could not be started; <see cref="Errno"/> says why (callers branch on it, never on the message).</summary>
public sealed class SpawnException(int errno, string message) : IOException(message)
{
    /// <summary>ENOEXEC: the kernel does not know the file's format (a script without a #! line).</summary>
    public const int NotExecutableFormat = 8;
    public int Errno { get; } = errno;
}

/// <summary>
/// Runs an executable directly (posix_spawn: no shell, arguments none, environment given) as the leader
/// of a new session and process group, with stdin on /dev/null, stdout/stderr on pipes read by one
/// poll(2) loop on the calling thread, and no other descriptor of the host. When it exits, times out or
/// floods its output, the whole process group is killed, so nothing it started outlives the run. Linux only.
/// </summary>
public static unsafe class SessionProcess
{
    private const int OCloexec = 0x80000, ONonblock = 0x800, ORdOnly = 0;
    private const short PollIn = 0x1, PollHup = 0x10, PollErr = 0x8;
    private const short PosixSpawnSetSigDef = 0x04, PosixSpawnSetSigMask = 0x08, PosixSpawnSetSid = 0x80;
    private const int WNoHang = 1, WExited = 4, WNoWait = 0x01000000, PPid = 1, EIntr = 4, EAgain = 11, SigKill = 9;
    private const long SysPidfdOpen = 434; // the same number on every Linux architecture since 5.3

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [DllImport("libc", SetLastError = true)] private static extern int pipe2(int* fds, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int fcntl(int fd, int command, int argument);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte* buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern int poll(PollFd* fds, nuint count, int timeoutMs);
    [DllImport("libc", SetLastError = true)] private static extern int waitpid(int pid, int* status, int options);
    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int signal);
    [DllImport("libc", SetLastError = true)] private static extern int waitid(int idType, int id, byte* info, int options);
    [DllImport("libc", SetLastError = true)] private static extern long syscall(long number, int pid, uint flags);
    [DllImport("libc")] private static extern int sigemptyset(byte* set);
    [DllImport("libc")] private static extern int sigfillset(byte* set);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_init(byte* actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_destroy(byte* actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_adddup2(byte* actions, int fd, int newFd);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addopen(byte* actions, int fd, byte* path, int flags, uint mode);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addclose(byte* actions, int fd);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addclosefrom_np(byte* actions, int from); // glibc 2.34+
    [DllImport("libc")] private static extern int posix_spawnattr_init(byte* attr);
    [DllImport("libc")] private static extern int posix_spawnattr_destroy(byte* attr);
    [DllImport("libc")] private static extern int posix_spawnattr_setflags(byte* attr, short flags);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigdefault(byte* attr, byte* set);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigmask(byte* attr, byte* set);
    [DllImport("libc")] private static extern int posix_spawn(int* pid, byte* path, byte* actions, byte* attr, byte** argv, byte** envp);

    /// <summary>Runs <paramref name="path"/> with the current environment plus <paramref name="extraEnvironment"/>.</summary>
    /// <param name="cancel">Stops the process and every process it started (the command's Ctrl+C): the result is then Stopped.</param>
    /// <exception cref="IOException">The process could not be started; the message carries the system's reason.</exception>
    public static SessionProcessResult Run(string path, IReadOnlyDictionary<string, string> extraEnvironment, TimeSpan timeout,
                                           int maxOutputBytes, int errorBytesKept, CancellationToken cancel) =>
        Run(path, extraEnvironment, timeout, maxOutputBytes, errorBytesKept, cancel, CloseFromAvailable);

    /// <param name="closeFrom">Whether to close inherited descriptors with posix_spawn_file_actions_addclosefrom_np (tests run the fallback too).</param>
    internal static SessionProcessResult Run(string path, IReadOnlyDictionary<string, string> extraEnvironment, TimeSpan timeout,
                                             int maxOutputBytes, int errorBytesKept, CancellationToken cancel, bool closeFrom)
    {
        var deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var outPipe = stackalloc int[2];
        var errPipe = stackalloc int[2];
        if (pipe2(outPipe, OCloexec) != 0) throw LastError("pipe2");
        if (pipe2(errPipe, OCloexec) != 0) { var e = LastError("pipe2"); close(outPipe[0]); close(outPipe[1]); throw e; }
        // Only our read ends are non-blocking: O_NONBLOCK on the write ends would reach the child.
        SetNonBlocking(outPipe[0]);
        SetNonBlocking(errPipe[0]);

        int pid;
        try
        {
            pid = Spawn(path, extraEnvironment, outPipe[1], errPipe[1], closeFrom);
        }
        catch
        {
            close(outPipe[0]); close(errPipe[0]);
            throw;
        }
        finally
        {
            close(outPipe[1]); close(errPipe[1]); // the child holds its own copies
        }

        var pidfd = (int)syscall(SysPidfdOpen, pid, 0);
        try
        {
            return Supervise(pid, pidfd, outPipe[0], errPipe[0], deadline, maxOutputBytes, errorBytesKept, cancel);
        }
        finally
        {
            close(outPipe[0]);
            close(errPipe[0]);
            if (pidfd >= 0) close(pidfd);
        }
    }

    private static int Spawn(string path, IReadOnlyDictionary<string, string> extra, int stdoutWrite, int stderrWrite, bool closeFrom)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) environment[(string)e.Key] = (string?)e.Value ?? "";
        foreach (var (k, v) in extra) environment[k] = v;

        var strings = new List<nint>();
        nint Utf8(string s) { var p = Marshal.StringToCoTaskMemUTF8(s); strings.Add(p); return p; }
        var actions = stackalloc byte[256];
        var attr = stackalloc byte[1024];
        var signals = stackalloc byte[256];
        var argv = stackalloc byte*[2];
        var envp = (byte**)NativeMemory.Alloc((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
        try
        {
            var file = (byte*)Utf8(path);
            argv[0] = file;
            argv[1] = null;
            var i = 0;
            foreach (var (k, v) in environment) envp[i++] = (byte*)Utf8(k + "=" + v);
            envp[i] = null;

            posix_spawn_file_actions_init(actions);
            posix_spawnattr_init(attr);
            try
            {
                posix_spawn_file_actions_addopen(actions, 0, (byte*)Utf8("/dev/null"), ORdOnly, 0);
                posix_spawn_file_actions_adddup2(actions, stdoutWrite, 1);
                posix_spawn_file_actions_adddup2(actions, stderrWrite, 2);
                // Last, after the dup2s: the script gets 0, 1 and 2 and nothing else of ours.
                CloseInheritedDescriptors(actions, closeFrom);
                // Default dispositions and an empty mask: the runtime ignores SIGPIPE and blocks some signals.
                sigfillset(signals);
                posix_spawnattr_setsigdefault(attr, signals);
                sigemptyset(signals);
                posix_spawnattr_setsigmask(attr, signals);
                posix_spawnattr_setflags(attr, (short)(PosixSpawnSetSid | PosixSpawnSetSigDef | PosixSpawnSetSigMask));

                int pid;
                var rc = posix_spawn(&pid, file, actions, attr, argv, envp);
                if (rc != 0) throw new SpawnException(rc, $"cannot execute '{path}': {Marshal.GetPInvokeErrorMessage(rc)}");
                return pid;
            }
            finally
            {
                posix_spawn_file_actions_destroy(actions);
                posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            NativeMemory.Free(envp);
            foreach (var p in strings) Marshal.FreeCoTaskMem(p);
        }
    }

    /// <summary>Whether this libc has posix_spawn_file_actions_addclosefrom_np (glibc 2.34 and later; not RHEL 8, Ubuntu 20.04).</summary>
    private static readonly bool CloseFromAvailable =
        NativeLibrary.TryLoad("libc.so.6", typeof(SessionProcess).Assembly, null, out var libc)
        && NativeLibrary.TryGetExport(libc, "posix_spawn_file_actions_addclosefrom_np", out _);

    /// <summary>
    /// Closes every descriptor above 2 in the child. Ours are close-on-exec, but native code in the host
    /// (a library, the terminal's pwsh) may hold descriptors that are not, and a script must not inherit them.
    /// </summary>
    private static void CloseInheritedDescriptors(byte* actions, bool closeFrom)
    {
        if (closeFrom && CloseFromAvailable && posix_spawn_file_actions_addclosefrom_np(actions, 3) == 0) return;
        // Fallback: close, in the child, each descriptor open now without close-on-exec. A descriptor
        // another thread opens without close-on-exec between this listing and the spawn is missed; the
        // runtime opens everything close-on-exec, so only native code could do that.
        const int getDescriptorFlags = 1, closeOnExec = 1;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2
                && fcntl(fd, getDescriptorFlags, 0) is var flags && flags >= 0 && (flags & closeOnExec) == 0)
                posix_spawn_file_actions_addclose(actions, fd);
        }
    }

    private static SessionProcessResult Supervise(int pid, int pidfd, int stdoutFd, int stderrFd, long deadline, int maxOutput, int errorKept, CancellationToken cancel)
    {
        var output = new MemoryStream();
        var errors = new MemoryStream();
        var fds = stackalloc PollFd[3];
        fds[0] = new PollFd { Fd = stdoutFd, Events = PollIn };
        fds[1] = new PollFd { Fd = stderrFd, Events = PollIn };
        fds[2] = new PollFd { Fd = pidfd, Events = PollIn };
        var buffer = stackalloc byte[16384];
        var end = SessionProcessEnd.Exited;

        while (true)
        {
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) { end = SessionProcessEnd.TimedOut; break; }
            if (cancel.IsCancellationRequested) { end = SessionProcessEnd.Stopped; break; }
            // Without a pidfd (kernels before 5.3) exit is noticed by polling waitpid every few milliseconds;
            // a stoppable command wakes at least every 50 ms to see whether it was stopped.
            var slice = pidfd < 0 ? 5 : cancel.CanBeCanceled ? 50 : int.MaxValue;
            var wait = (int)Math.Min(remaining, slice);
            var ready = poll(fds, pidfd >= 0 ? 3u : 2u, wait);
            if (ready < 0 && Marshal.GetLastPInvokeError() != EIntr) throw LastError("poll");

            if (!Drain(ref fds[0], output, maxOutput + 1, buffer) || !Drain(ref fds[1], errors, errorKept, buffer, discardBeyond: true))
                throw LastError("read");
            if (output.Length > maxOutput) { end = SessionProcessEnd.OutputTooLarge; break; }

            if ((pidfd < 0 || (fds[2].Revents & PollIn) != 0) && HasExited(pid)) break;
        }

        // Whatever the ending, nothing the process started may outlive it. The process is not reaped
        // yet (a zombie at most), so its pid, which is also its group id, cannot have been reused.
        if (end != SessionProcessEnd.Exited) KillDescendants(pid);
        kill(-pid, SigKill);
        var status = Reap(pid);
        // Every writer is dead now (unless something left the group), so the pipes reach end of file.
        FinalDrain(fds, output, errors, maxOutput, errorKept, buffer);
        if (end == SessionProcessEnd.Exited && output.Length > maxOutput) end = SessionProcessEnd.OutputTooLarge;

        var s = status;
        var signal = (s & 0x7f) != 0 ? s & 0x7f : (int?)null;
        var exitCode = signal is null ? (s >> 8) & 0xff : 128 + signal.Value;
        return new SessionProcessResult(end, exitCode, signal, output.ToArray(), Encoding.UTF8.GetString(errors.GetBuffer(), 0, (int)errors.Length));
    }

    /// <summary>Reads what is available without blocking. False on a read error other than "try again".</summary>
    private static bool Drain(ref PollFd fd, MemoryStream sink, int keep, byte* buffer, bool discardBeyond = false)
    {
        if (fd.Fd < 0 || (fd.Revents & (PollIn | PollHup | PollErr)) == 0) return true;
        while (true)
        {
            var n = read(fd.Fd, buffer, 16384);
            if (n > 0)
            {
                var take = discardBeyond ? (int)Math.Min(n, Math.Max(0, keep - sink.Length)) : (int)n;
                sink.Write(new ReadOnlySpan<byte>(buffer, take));
                if (!discardBeyond && sink.Length >= keep) return true;
                continue;
            }
            if (n == 0) { fd.Fd = -1; return true; } // end of file: stop polling it
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EAgain) return true;
            if (errno == EIntr) continue;
            return false;
        }
    }

    private static void FinalDrain(PollFd* fds, MemoryStream output, MemoryStream errors, int maxOutput, int errorKept, byte* buffer)
    {
        var until = Environment.TickCount64 + 1000;
        while ((fds[0].Fd >= 0 || fds[1].Fd >= 0) && output.Length <= maxOutput)
        {
            var remaining = until - Environment.TickCount64;
            if (remaining <= 0) break;
            if (poll(fds, 2, (int)remaining) < 0 && Marshal.GetLastPInvokeError() != EIntr) break;
            if (!Drain(ref fds[0], output, maxOutput + 1, buffer) || !Drain(ref fds[1], errors, errorKept, buffer, discardBeyond: true)) break;
        }
    }

    /// <summary>Whether the child has exited, without reaping it (waitid with WNOWAIT).</summary>
    private static bool HasExited(int pid)
    {
        var info = stackalloc byte[128];
        new Span<byte>(info, 128).Clear();
        if (waitid(PPid, pid, info, WExited | WNoHang | WNoWait) != 0) return true; // gone already
        return *(int*)(info + 16) == pid; // siginfo_t.si_pid
    }

    /// <summary>Descendants that left the process group but are still in the tree (walks /proc).</summary>
    private static void KillDescendants(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { }
    }

    private static int Reap(int pid)
    {
        int status;
        while (waitpid(pid, &status, 0) < 0)
        {
            if (Marshal.GetLastPInvokeError() != EIntr) return SigKill; // already reaped elsewhere: report it as killed
        }
        return status;
    }

    private static void SetNonBlocking(int fd)
    {
        const int getFlags = 3, setFlags = 4;
        fcntl(fd, setFlags, fcntl(fd, getFlags, 0) | ONonblock);
    }

    private static IOException LastError(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
