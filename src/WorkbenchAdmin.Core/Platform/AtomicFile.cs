
namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// Replaces a file so that readers see either the old or the new content, never a mix: the new bytes go
/// to a temporary file in the same directory, are fsynced, take the original's mode and owner, and are
/// renamed over it. Any failure before the rename leaves the original untouched and removes the temp file.
/// </summary>
public static class AtomicFile
{
    /// <param name="path">
    /// The file to replace or create. A symbolic link is followed (its target is replaced) only through
    /// directories and links that no one but root (or the user running us) can change; see <see cref="ResolveTarget"/>.
    /// </param>
    /// <param name="newFileMode">Mode of a file that does not exist yet.</param>
    /// <param name="beforeCommit">Called with the temporary file's path just before the rename (a seam for failure tests).</param>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode newFileMode = DefaultMode, Action<string>? beforeCommit = null)
    {
        string target;
        try
        {
            target = ResolveTarget(Path.GetFullPath(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WbException("ConfigWriteFailed", e is UnauthorizedAccessException ? WbErrorCategory.PermissionDenied : WbErrorCategory.WriteError,
                $"Could not write '{path}': {e.Message} The file was not changed.", path, e);
        }
        var directory = Path.GetDirectoryName(target)!;
        var existing = UnixFile.TryStat(target);
        var temp = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
            };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            if (existing is { } status)
            {
                if (status.Uid != UnixFile.EffectiveUserId || GetGid(temp) != status.Gid)
                {
                    try { UnixFile.ChangeOwner(temp, status.Uid, status.Gid); }
                    catch (UnauthorizedAccessException e)
                    {
                        throw new WbException("ConfigOwnerNotPreserved", WbErrorCategory.PermissionDenied,
                            $"Cannot replace '{target}' keeping its owner {status.Uid}:{status.Gid} ({e.Message}); run as root or as the file's owner. The file was not changed.",
                            target, e);
                    }
                }
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, status.Mode);
            }
            else if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, newFileMode);
            }

            beforeCommit?.Invoke(temp);
            File.Move(temp, target, overwrite: true);
            UnixFile.SyncDirectory(directory);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is WbException) throw;
            throw new WbException("ConfigWriteFailed", e is UnauthorizedAccessException ? WbErrorCategory.PermissionDenied : WbErrorCategory.WriteError,
                $"Could not write '{target}': {e.Message} The file was not changed.", target, e);
        }
    }

    public const UnixFileMode DefaultMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static uint GetGid(string path) => UnixFile.TryStat(path)?.Gid ?? 0;

    /// <summary>
    /// The file a write of <paramref name="path"/> replaces: the path itself, or the final target of the
    /// links it passes through, resolved one component at a time as the kernel would. The write creates a
    /// temporary file beside the target, changes its owner and mode by path and renames it, so whoever can
    /// change a directory on the way (or a link followed) could redirect root's write to any file. Every
    /// directory walked through must therefore be owned by root (or us) and writable only by its owner
    /// (or be sticky, as /tmp, where others cannot rename our entries), and every link followed must be
    /// owned by root (or us); otherwise the write is refused. The target's own owner does not matter: it
    /// is replaced by rename in a directory only root can change, and keeps its owner.
    /// </summary>
    /// <exception cref="WbException">ConfigPathUnsafe: something on the way could be changed by someone else.</exception>
    internal static string ResolveTarget(string path)
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
        CheckDirectory(path, current, UnixFile.TryStat(current, followLinks: false));
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
                    throw Unsafe(path, $"{next} is a link owned by uid {status.Value.Uid}, not by {UnixFile.TrustedOwners}");
                var target = new FileInfo(next).LinkTarget ?? throw new IOException($"cannot read the link '{next}'");
                if (target.StartsWith('/')) current = "/";
                Push(target);
                continue;
            }
            if (pending.Count == 0) return next; // the file itself, in a directory checked on the way
            if (status.Value.Type != UnixFileType.Directory) return Path.Join(next, string.Join('/', pending)); // fails the write: not a directory
            CheckDirectory(path, next, status);
            current = next;
        }
        return current;
    }

    private static void CheckDirectory(string path, string directory, UnixFileStatus? status)
    {
        if (status is { } s && UnixFile.WhyOthersCanChange(directory, s, allowSticky: true) is { } why) throw Unsafe(path, why);
    }

    private static WbException Unsafe(string path, string why) =>
        new("ConfigPathUnsafe", WbErrorCategory.SecurityError,
            $"Refusing to write '{path}': {why}, and whoever can change it could redirect this write to any file. The file was not changed. " +
            "Keep configuration files, and any file they link to, in directories only root can change.", path);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
