using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>A file refused because someone other than root (or us) owns it or can change it, or it is not a regular file.</summary>
public sealed class UntrustedFileException(string path, string reason) : IOException(reason)
{
    public string Path { get; } = path;
}

/// <summary>
/// A path resolved one component at a time, as the kernel would, through only what root (or the user
/// running us) can change. Root writes configuration files and runs balancer scripts by path: whoever could
/// change a directory on the way, or a link followed, could redirect that write or swap that program. So
/// every directory walked through must be owned by root (or us) and writable only by its owner (or be
/// sticky, as /tmp, where others cannot rename our entries), and every link followed must be owned by root
/// (or us); otherwise <see cref="UnsafeDirectoryException"/> names the culprit.
/// </summary>
public static class TrustedPath
{
    /// <summary>
    /// The path itself, or the final target of the links it passes through; a missing last part is returned
    /// as it would be created. The file's own owner and mode are the caller's to judge.
    /// </summary>
    public static string Resolve(string path)
    {
        if (!UnixFile.IsSupported) return path;
        const int maxLinks = 40; // as the kernel's ELOOP limit
        var pending = new Stack<string>();
        void Push(string p)
        {
            var parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var i = parts.Length - 1; i >= 0; i--) if (parts[i] != ".") pending.Push(parts[i]);
        }
        Push(path);
        var current = "/";
        CheckDirectory(current, UnixFile.TryStat(current, followLinks: false));
        var links = 0;
        while (pending.TryPop(out var name))
        {
            if (name == "..") { current = Path.GetDirectoryName(current) ?? "/"; continue; }
            var next = Path.Join(current, name);
            var status = UnixFile.TryStat(next, followLinks: false);
            if (status is null) // missing: created there (a missing directory on the way fails the write itself)
                return pending.Count == 0 ? next : Path.Join(next, string.Join('/', pending));
            if (status.Value.Type == UnixFileType.SymbolicLink)
            {
                if (++links > maxLinks) throw new IOException($"'{path}' leads through more than {maxLinks} symbolic links (a loop?).");
                if (status.Value.Uid != 0 && status.Value.Uid != UnixFile.EffectiveUserId)
                    throw new UnsafeDirectoryException(next, $"{next} is a link owned by uid {status.Value.Uid}, not by {UnixFile.TrustedOwners}", isLink: true);
                var target = new FileInfo(next).LinkTarget ?? throw new IOException($"cannot read the link '{next}'");
                if (target.StartsWith('/')) current = "/";
                Push(target);
                continue;
            }
            if (pending.Count == 0) return next; // the file itself, in a directory checked on the way
            if (status.Value.Type != UnixFileType.Directory) return Path.Join(next, string.Join('/', pending)); // fails the write: not a directory
            CheckDirectory(next, status);
            current = next;
        }
        return current;
    }

    private static void CheckDirectory(string directory, UnixFileStatus? status)
    {
        if (status is { } s && UnixFile.WhyOthersCanChange(directory, s, allowSticky: true) is { } why)
            throw new UnsafeDirectoryException(directory, why, isLink: false);
    }

    /// <summary>
    /// Why someone other than root (or us) could change what <paramref name="path"/> names, through a directory or
    /// link on its way or the file itself; null when no one can. Root reads and runs such files: one that others
    /// can change is one they can plant.
    /// </summary>
    public static string? WhyUntrusted(string path)
    {
        try
        {
            return WhyOthersCanChangeFile(Resolve(Path.GetFullPath(path)));
        }
        catch (UnsafeDirectoryException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// The content of a file root relies on, read as no one else can redirect: reached through <see cref="Resolve"/>,
    /// opened without following a link in its last part (nor waiting on a FIFO), and judged on the open descriptor,
    /// whatever the path names by then: a regular file, owned by root (or us), writable by no one else, and of at most
    /// <paramref name="maxBytes"/> bytes.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">A directory or link on the way could be changed by someone else.</exception>
    /// <exception cref="UntrustedFileException">The file is not one only root (or we) could have written, or is too large.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="IOException">It cannot be opened or read.</exception>
    public static unsafe byte[] ReadFile(string path, int maxBytes)
    {
        if (!UnixFile.IsSupported) return File.ReadAllBytes(path);
        var target = Resolve(Path.GetFullPath(path));
        using var fd = new FileDescriptor(UnixFile.Open(target, UnixFile.ORdOnly | UnixFile.ONoFollow | UnixFile.ONonblock | UnixFile.ONoCtty | UnixFile.OCloexec));
        if (fd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == UnixFile.ENoEnt) throw new FileNotFoundException($"'{path}' does not exist.", path);
            if (errno == UnixFile.ELoop) throw new UntrustedFileException(path, $"{target} became a symbolic link while it was opened");
            throw UnixFile.LastError("open", path);
        }
        var status = UnixFile.Stat(fd, path);
        if (status.Type != UnixFileType.Regular) throw new UntrustedFileException(path, $"{target} is not a regular file");
        if (UnixFile.WhyOthersCanChange(target, status, allowSticky: false) is { } why) throw new UntrustedFileException(path, why);
        if (status.Size > (ulong)maxBytes) throw new UntrustedFileException(path, $"{target} is larger than {maxBytes:N0} bytes");
        var content = new byte[(int)status.Size];
        var read = 0;
        fixed (byte* buffer = content)
        {
            while (read < content.Length)
            {
                var n = UnixFile.Read(fd, buffer + read, content.Length - read);
                if (n < 0 && Marshal.GetLastPInvokeError() == UnixFile.EIntr) continue;
                if (n < 0) throw UnixFile.LastError("read", path);
                if (n == 0) break; // it shrank meanwhile: what there is
                read += (int)n;
            }
        }
        return read == content.Length ? content : content[..read];
    }

    /// <summary>Why someone other than root (or us) could change the file itself, or null when no one can.</summary>
    public static string? WhyOthersCanChangeFile(string path)
    {
        return UnixFile.TryStat(path, followLinks: false) is { } s ? UnixFile.WhyOthersCanChange(path, s, allowSticky: false) : null;
    }
}
