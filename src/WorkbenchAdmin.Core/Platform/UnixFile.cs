using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>Owner, mode and identity of a file, as statx(2) reports them.</summary>
public readonly record struct UnixFileStatus(uint Uid, uint Gid, UnixFileMode Mode, ulong Inode, uint DeviceMajor, uint DeviceMinor);

/// <summary>
/// The few POSIX calls .NET does not expose: file owner (statx, whose layout is the same on every Linux
/// architecture), chown, and fsync of a directory so a rename survives a crash.
/// </summary>
public static class UnixFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxBufferSize = 256;
    private const int ORdOnly = 0, ODirectory = 0x10000; // O_DIRECTORY on x86-64; on arm64 it is 0x4000, see below.

    [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
    private static extern unsafe int StatX(int dirfd, string path, int flags, uint mask, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "chown")]
    private static extern int Chown(string path, uint owner, uint group);

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    private static extern int Open(string path, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "fsync")]
    private static extern int FSync(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "close")]
    private static extern int Close(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "access")]
    private static extern int Access(string path, int mode);

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", SetLastError = true, EntryPoint = "statfs")]
    private static extern unsafe int StatFs(string path, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    public static bool IsSupported => OperatingSystem.IsLinux();

    public static uint EffectiveUserId => IsSupported ? GetEuid() : uint.MaxValue;

    /// <summary>True when the current user may execute <paramref name="path"/> (access(2) with X_OK).</summary>
    public static bool IsExecutable(string path)
    {
        if (!IsSupported) return File.Exists(path);
        return File.Exists(path) && Access(path, 1) == 0;
    }

    /// <summary>Sends SIGKILL to every process in process group <paramref name="processGroup"/>. False when the group is gone.</summary>
    public static bool KillProcessGroup(int processGroup) => IsSupported && processGroup > 1 && Kill(-processGroup, 9) == 0;

    /// <summary>The file system type (statfs f_type) of the file system holding <paramref name="path"/>, or null.</summary>
    public static unsafe long? FileSystemType(string path)
    {
        if (!IsSupported) return null;
        var buffer = stackalloc byte[256]; // struct statfs is 120 bytes on 64-bit Linux; f_type comes first
        return StatFs(path, buffer) == 0 ? *(long*)buffer : null;
    }

    /// <summary>Status of <paramref name="path"/>, or null when it does not exist.</summary>
    public static unsafe UnixFileStatus? TryStat(string path, bool followLinks = true)
    {
        if (!IsSupported) return null;
        var buffer = stackalloc byte[StatxBufferSize];
        if (StatX(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20) return null; // ENOENT, ENOTDIR
            throw new IOException($"statx('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var span = new ReadOnlySpan<byte>(buffer, StatxBufferSize);
        // struct statx: uid @20, gid @24, mode @28 (u16), ino @32, dev_major @136, dev_minor @140.
        return new UnixFileStatus(
            BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[24..]),
            (UnixFileMode)(BinaryPrimitives.ReadUInt16LittleEndian(span[28..]) & 0xFFF),
            BinaryPrimitives.ReadUInt64LittleEndian(span[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[136..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[140..]));
    }

    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Chown(path, uid, gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new UnauthorizedAccessException($"chown('{path}', {uid}, {gid}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Flushes a directory's entries, so that a rename inside it is durable. Best effort.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!IsSupported) return;
        var oDirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : ODirectory;
        var fd = Open(directory, ORdOnly | oDirectory);
        if (fd < 0) return;
        try { FSync(fd); }
        finally { Close(fd); }
    }
}
