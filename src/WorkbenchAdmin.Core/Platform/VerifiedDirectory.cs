using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>A directory refused because someone other than root (or us) could change what it leads to.</summary>
public sealed class UnsafeDirectoryException(string path, string reason, bool isLink) : IOException(reason)
{
    public string Path { get; } = path;
    /// <summary>The path is a symbolic link (remove the link), rather than a directory with the wrong owner or mode.</summary>
    public bool IsLink { get; } = isLink;
}

/// <summary>
/// A directory inside a tree others can write to (shared storage), opened once without following a link
/// and checked through its descriptor: a directory that only root (or the user running us) owns and can
/// write. Every file in it is then opened, read and replaced relative to that descriptor, never by path,
/// and never through a link, so nothing planted or renamed afterwards can redirect a read or a write.
/// </summary>
public sealed class VerifiedDirectory : IDisposable
{
    private readonly FileDescriptor _fd;

    private VerifiedDirectory(string path, FileDescriptor fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>Opens (and when <paramref name="create"/>, first creates, mode 755) <paramref name="name"/> in <paramref name="parent"/>.</summary>
    /// <returns>The directory, or null when it does not exist and <paramref name="create"/> is false.</returns>
    /// <exception cref="UnsafeDirectoryException">It is a link, not a directory, or others could change it.</exception>
    /// <exception cref="IOException">The parent cannot be opened, or the directory cannot be created or opened.</exception>
    public static VerifiedDirectory? Open(string parent, string name, bool create)
    {
        var path = System.IO.Path.Combine(parent, name);
        // The parent is followed: it is the configured path (a mount point, perhaps reached by a link the admin made).
        using var parentFd = Handle(UnixFile.Open(parent, UnixFile.ORdOnly | UnixFile.ODirectory | UnixFile.OCloexec));
        if (parentFd.IsInvalid) throw UnixFile.LastError("open", parent);
        // mkdirat never follows a link in its last component: a planted link makes it fail with EEXIST.
        if (create && UnixFile.MkdirAt(parentFd, name, 0x1ED /* 755 */) != 0 && Marshal.GetLastPInvokeError() != UnixFile.EExist)
            throw UnixFile.LastError("mkdir", path);
        var fd = Handle(UnixFile.OpenAt(parentFd, name, UnixFile.ORdOnly | UnixFile.ODirectory | UnixFile.ONoFollow | UnixFile.OCloexec));
        if (fd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == UnixFile.ENoEnt) return null;
            if (errno is UnixFile.ELoop or UnixFile.ENotDir)
            {
                // Tell a link from another kind of file by what the entry is (not what it points to).
                var isLink = UnixFile.TryStatAt(parentFd, name, path)?.Type == UnixFileType.SymbolicLink;
                throw new UnsafeDirectoryException(path, isLink ? $"{path} is a symbolic link" : $"{path} is not a directory", isLink);
            }
            throw UnixFile.LastError("open", path);
        }
        try
        {
            // What was opened is what counts, whatever the path names by now.
            var status = UnixFile.Stat(fd, path);
            if (UnixFile.WhyOthersCanChange(path, status, allowSticky: false) is { } why)
                throw new UnsafeDirectoryException(path, why, isLink: false);
            return new VerifiedDirectory(path, fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The names of the directory's entries (not "." and "..").</summary>
    public IReadOnlyList<string> Names()
    {
        // A descriptor of its own for readdir, so that its position is not shared with ours.
        var fd = UnixFile.OpenAt(_fd, ".", UnixFile.ORdOnly | UnixFile.ODirectory | UnixFile.OCloexec);
        if (fd < 0) throw UnixFile.LastError("open", Path);
        var dir = UnixFile.FdOpenDir(fd);
        if (dir == 0) { var e = UnixFile.LastError("fdopendir", Path); UnixFile.Close(fd); throw e; }
        var names = new List<string>();
        try
        {
            nint entry;
            // struct dirent on 64-bit glibc: d_ino (8), d_off (8), d_reclen (2), d_type (1), then d_name.
            while ((entry = UnixFile.ReadDir(dir)) != 0)
                if (Marshal.PtrToStringUTF8(entry + 19) is { } name and not "." and not "..") names.Add(name);
        }
        finally
        {
            UnixFile.CloseDir(dir); // closes fd too
        }
        return names;
    }

    /// <summary>
    /// The content of <paramref name="name"/> when it is a regular file (not a link, not a FIFO or device),
    /// with one link and exactly <paramref name="size"/> bytes; otherwise null.
    /// </summary>
    public unsafe byte[]? ReadRegularFile(string name, int size)
    {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal must not become ours.
        using var fd = Handle(UnixFile.OpenAt(_fd, name, UnixFile.ORdOnly | UnixFile.ONoFollow | UnixFile.ONonblock | UnixFile.ONoCtty | UnixFile.OCloexec));
        if (fd.IsInvalid) return null;
        var status = UnixFile.Stat(fd, System.IO.Path.Combine(Path, name));
        if (status.Type != UnixFileType.Regular || status.LinkCount != 1 || status.Size != (ulong)size) return null;
        var content = new byte[size];
        var read = 0;
        fixed (byte* buffer = content)
        {
            while (read < size)
            {
                var n = UnixFile.Read(fd, buffer + read, size - read);
                if (n < 0 && Marshal.GetLastPInvokeError() == UnixFile.EIntr) continue;
                if (n <= 0) return null; // an error, or the file shrank while we read it
                read += (int)n;
            }
        }
        return content;
    }

    /// <summary>
    /// Replaces <paramref name="name"/> (whatever it is now: a rename replaces a link, it never follows it)
    /// with a new regular file: written to a temporary file in the directory, fsynced, then renamed.
    /// </summary>
    public unsafe void Replace(string name, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var path = System.IO.Path.Combine(Path, name);
        var temp = $".{name}.{Guid.NewGuid():N}.tmp";
        using (var fd = Handle(UnixFile.OpenAt(_fd, temp, UnixFile.OWrOnly | UnixFile.OCreat | UnixFile.OExcl | UnixFile.ONoFollow | UnixFile.OCloexec, (uint)mode)))
        {
            if (fd.IsInvalid) throw UnixFile.LastError("open", System.IO.Path.Combine(Path, temp));
            try
            {
                fixed (byte* buffer = content)
                {
                    for (var written = 0; written < content.Length;)
                    {
                        var n = UnixFile.Write(fd, buffer + written, content.Length - written);
                        if (n < 0 && Marshal.GetLastPInvokeError() == UnixFile.EIntr) continue;
                        if (n < 0) throw UnixFile.LastError("write", path);
                        written += (int)n;
                    }
                }
                if (UnixFile.FSync(fd) != 0) throw UnixFile.LastError("fsync", path);
            }
            catch
            {
                UnixFile.UnlinkAt(_fd, temp, 0);
                throw;
            }
        }
        if (UnixFile.RenameAt(_fd, temp, _fd, name) != 0)
        {
            var e = UnixFile.LastError("rename", path);
            UnixFile.UnlinkAt(_fd, temp, 0);
            throw e;
        }
        UnixFile.FSync(_fd); // the rename itself, best effort
    }

    public void Dispose() => _fd.Dispose();

    private static FileDescriptor Handle(int fd) => new(fd);
}
