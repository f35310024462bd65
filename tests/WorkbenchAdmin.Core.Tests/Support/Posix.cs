using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// POSIX calls the tests need to build hostile file system states (descriptors without close-on-exec,
/// hard links, links owned by another user) that .NET cannot make.
/// </summary>
public static class Posix
{
    [DllImport("libc", SetLastError = true, EntryPoint = "open")] private static extern int Open(string path, int flags);
    [DllImport("libc", SetLastError = true, EntryPoint = "fcntl")] private static extern int Fcntl(int fd, int command, int argument);
    [DllImport("libc", SetLastError = true, EntryPoint = "close")] public static extern int Close(int fd);
    [DllImport("libc", SetLastError = true, EntryPoint = "link")] private static extern int Link(string existing, string link);
    [DllImport("libc", SetLastError = true, EntryPoint = "lchown")] private static extern int LChown(string path, uint owner, uint group);

    public const uint Nobody = 65534;

    /// <summary>Tests that chown need root; CI runs as root.</summary>
    public static bool IsRoot => WorkbenchAdmin.Core.Platform.UnixFile.EffectiveUserId == 0;

    /// <summary>
    /// Opens <paramref name="path"/> read-only as a descriptor at or above <paramref name="atLeast"/> without
    /// close-on-exec, as a library that opens files with plain open(2) would leave one. The caller closes it.
    /// </summary>
    public static int OpenInheritable(string path, int atLeast)
    {
        const int fDupFd = 0; // F_DUPFD: the copy does not have FD_CLOEXEC
        var fd = Open(path, 0);
        if (fd < 0) throw Error("open");
        var high = Fcntl(fd, fDupFd, atLeast);
        Close(fd);
        if (high < 0) throw Error("fcntl");
        return high;
    }

    public static void HardLink(string existing, string link)
    {
        if (Link(existing, link) != 0) throw Error("link");
    }

    /// <summary>Changes the owner of a symbolic link itself (chown would follow it).</summary>
    public static void ChownLink(string path, uint uid, uint gid)
    {
        if (LChown(path, uid, gid) != 0) throw Error("lchown");
    }

    private static IOException Error(string call) => new($"{call}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
