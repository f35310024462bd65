using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// The C library's socket calls, for the sockets the balancer program makes without .NET's Socket (whose event engine
/// starts a thread): the status page's TCP connection and the kernel's socket-diagnostics lookups.
/// </summary>
internal static unsafe class LibcSocket
{
    internal const int AfInet = 2, AfInet6 = 10, AfNetlink = 16, SockStream = 1, SockDgram = 2, SockCloexec = 0x80000;
    internal const int SolSocket = 1, SoRcvTimeo = 20, SoSndTimeo = 21;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeValue { public nint Seconds, Microseconds; }

    [DllImport("libc", SetLastError = true, EntryPoint = "socket")]
    internal static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true, EntryPoint = "setsockopt")]
    private static extern int SetSockOpt(FileDescriptor fd, int level, int name, void* value, uint length);

    [DllImport("libc", SetLastError = true, EntryPoint = "send")]
    internal static extern nint Send(FileDescriptor fd, void* buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "recv")]
    internal static extern nint Receive(FileDescriptor fd, void* buffer, nint length, int flags);

    /// <summary>Sets SO_RCVTIMEO or SO_SNDTIMEO to <paramref name="timeout"/> (at least a millisecond); false when the call fails (errno says why).</summary>
    internal static bool SetTimeout(FileDescriptor fd, int option, TimeSpan timeout)
    {
        var ms = (long)Math.Max(1, timeout.TotalMilliseconds);
        var value = new TimeValue { Seconds = (nint)(ms / 1000), Microseconds = (nint)(ms % 1000 * 1000) };
        return SetSockOpt(fd, SolSocket, option, &value, (uint)sizeof(TimeValue)) == 0;
    }
}
