using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>What kind of file a path names (the file type bits of st_mode).</summary>
public enum UnixFileType { Other, Regular, Directory, SymbolicLink, Socket }

/// <summary>Owner, mode and identity of a file, as statx(2) reports them.</summary>
public readonly record struct UnixFileStatus(uint Uid, uint Gid, UnixFileMode Mode, ulong Inode, uint DeviceMajor, uint DeviceMinor,
                                             UnixFileType Type = UnixFileType.Other, uint LinkCount = 0, ulong Size = 0);

/// <summary>
/// The few POSIX calls .NET does not expose: file owner (statx, whose layout is the same on every Linux
/// architecture), chown, fsync of a directory so a rename survives a crash, and the descriptor-relative
/// calls (openat, mkdirat, renameat, flock) that let root work in a directory without following links.
/// </summary>
public static class UnixFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxBufferSize = 256;

    // open(2) flags. O_DIRECTORY and O_NOFOLLOW differ between x86-64 and arm64; the rest are the same.
    internal const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ONoCtty = 0x100, ONonblock = 0x800, OCloexec = 0x80000;
    internal static readonly int ODirectory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 ? 0x4000 : 0x10000;
    internal static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 ? 0x8000 : 0x20000;
    internal const int ENoEnt = 2, EIntr = 4, EAgain = 11, EExist = 17, ENotDir = 20, EIsDir = 21, ELoop = 40;

    [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
    private static extern unsafe int StatX(int dirfd, string path, int flags, uint mask, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "chown")]
    private static extern int Chown(string path, uint owner, uint group);

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    internal static extern int Open(string path, int flags, uint mode = 0);

    [DllImport("libc", SetLastError = true, EntryPoint = "openat")]
    internal static extern int OpenAt(FileDescriptor dirfd, string path, int flags, uint mode = 0);

    [DllImport("libc", SetLastError = true, EntryPoint = "mkdirat")]
    internal static extern int MkdirAt(FileDescriptor dirfd, string path, uint mode);

    [DllImport("libc", SetLastError = true, EntryPoint = "renameat")]
    internal static extern int RenameAt(FileDescriptor olddirfd, string oldpath, FileDescriptor newdirfd, string newpath);

    [DllImport("libc", SetLastError = true, EntryPoint = "unlinkat")]
    internal static extern int UnlinkAt(FileDescriptor dirfd, string path, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "read")]
    internal static extern unsafe nint Read(FileDescriptor fd, byte* buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "write")]
    internal static extern unsafe nint Write(FileDescriptor fd, byte* buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "flock")]
    internal static extern int Flock(FileDescriptor fd, int operation);

    [DllImport("libc", SetLastError = true, EntryPoint = "fdopendir")]
    internal static extern nint FdOpenDir(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "readdir")]
    internal static extern nint ReadDir(nint dir);

    [DllImport("libc", SetLastError = true, EntryPoint = "closedir")]
    internal static extern int CloseDir(nint dir);

    [DllImport("libc", SetLastError = true, EntryPoint = "fsync")]
    internal static extern int FSync(FileDescriptor fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "close")]
    internal static extern int Close(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
    private static extern unsafe int StatX(FileDescriptor dirfd, string path, int flags, uint mask, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "access")]
    private static extern int Access(string path, int mode);

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", SetLastError = true, EntryPoint = "statfs")]
    private static extern unsafe int StatFs(string path, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    [DllImport("libc", EntryPoint = "getpwnam_r")]
    private static extern unsafe int GetPwNamR(string name, byte* passwd, byte* buffer, nint length, byte** result);

    public static bool IsSupported => OperatingSystem.IsLinux();

    public static uint EffectiveUserId => IsSupported ? GetEuid() : uint.MaxValue;

    /// <summary>The uid of the user <paramref name="name"/> (getpwnam_r: /etc/passwd, LDAP, whatever NSS serves), or null when there is none.</summary>
    public static unsafe uint? UserId(string name)
    {
        if (!IsSupported || name.Length == 0) return null;
        var passwd = stackalloc byte[64]; // struct passwd: 48 bytes on 64-bit Linux; pw_uid at 16
        for (var length = 1024; length <= 1 << 20; length *= 4)
        {
            var buffer = new byte[length];
            byte* result = null;
            int error;
            fixed (byte* b = buffer) error = GetPwNamR(name, passwd, b, length, &result);
            if (error == 34 /* ERANGE: a larger buffer */) continue;
            return error == 0 && result != null ? *(uint*)(passwd + 16) : null;
        }
        return null;
    }

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
            if (errno is ENoEnt or ENotDir) return null;
            throw new IOException($"statx('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return Parse(buffer);
    }

    /// <summary>Status of an open file (fstat): what the descriptor is, whatever its path names by now.</summary>
    internal static unsafe UnixFileStatus Stat(FileDescriptor fd, string pathForMessages)
    {
        var buffer = stackalloc byte[StatxBufferSize];
        if (StatX(fd, "", AtEmptyPath, StatxBasicStats, buffer) != 0) throw LastError("fstat", pathForMessages);
        return Parse(buffer);
    }

    /// <summary>Status of <paramref name="name"/> in an open directory, not following a link; null when missing.</summary>
    internal static unsafe UnixFileStatus? TryStatAt(FileDescriptor directory, string name, string pathForMessages)
    {
        var buffer = stackalloc byte[StatxBufferSize];
        if (StatX(directory, name, AtSymlinkNoFollow, StatxBasicStats, buffer) == 0) return Parse(buffer);
        if (Marshal.GetLastPInvokeError() is ENoEnt or ENotDir) return null;
        throw LastError("statx", pathForMessages);
    }

    private static unsafe UnixFileStatus Parse(byte* buffer)
    {
        var span = new ReadOnlySpan<byte>(buffer, StatxBufferSize);
        // struct statx: nlink @16, uid @20, gid @24, mode @28 (u16), ino @32, size @40, dev_major @136, dev_minor @140.
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
        return new UnixFileStatus(
            BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[24..]),
            (UnixFileMode)(mode & 0xFFF),
            BinaryPrimitives.ReadUInt64LittleEndian(span[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[136..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[140..]),
            (mode & 0xF000) switch { 0x8000 => UnixFileType.Regular, 0x4000 => UnixFileType.Directory, 0xA000 => UnixFileType.SymbolicLink, 0xC000 => UnixFileType.Socket, _ => UnixFileType.Other },
            BinaryPrimitives.ReadUInt32LittleEndian(span[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(span[40..]));
    }

    /// <summary>
    /// Why someone other than root and the user running us could add, remove or replace entries of the
    /// directory <paramref name="path"/> (and so redirect what we open there), or null when no one can.
    /// A sticky directory (/tmp) counts as safe when <paramref name="allowSticky"/>: others may add entries
    /// there but not rename or remove ours.
    /// </summary>
    internal static string? WhyOthersCanChange(string path, in UnixFileStatus directory, bool allowSticky)
    {
        if (directory.Uid != 0 && directory.Uid != EffectiveUserId)
            return $"{path} is owned by uid {directory.Uid}, not by {TrustedOwners}";
        if (allowSticky && directory.Mode.HasFlag(UnixFileMode.StickyBit)) return null;
        if (directory.Mode.HasFlag(UnixFileMode.OtherWrite)) return $"{path} is writable by others (mode {Octal(directory.Mode)})";
        if (directory.Mode.HasFlag(UnixFileMode.GroupWrite)) return $"{path} is writable by its group (gid {directory.Gid}, mode {Octal(directory.Mode)})";
        return null;
    }

    /// <summary>"root", or "root or uid N" when we are not root.</summary>
    internal static string TrustedOwners => EffectiveUserId == 0 ? "root" : $"root or uid {EffectiveUserId}";

    internal static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(3, '0');

    /// <summary>The failure of the last P/Invoke call, naming the call and the path.</summary>
    internal static IOException LastError(string call, string path) =>
        new($"{call}('{path}') failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

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
        using var fd = new FileDescriptor(Open(directory, ORdOnly | ODirectory | OCloexec));
        if (!fd.IsInvalid) FSync(fd);
    }
}

/// <summary>An open file descriptor, closed on dispose. (SafeFileHandle would take descriptor 0 for invalid.)</summary>
internal sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor() : base(-1, ownsHandle: true) { }
    public FileDescriptor(int fd) : this() => SetHandle(fd);
    private FileDescriptor(int fd, bool ownsHandle) : base(-1, ownsHandle) => SetHandle(fd);
    /// <summary>A descriptor this process was given (stdout, stderr): used, never closed.</summary>
    public static FileDescriptor Borrowed(int fd) => new(fd, ownsHandle: false);
    public override bool IsInvalid => handle < 0;
    protected override bool ReleaseHandle() => UnixFile.Close((int)handle) == 0;
}
