
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
    /// <param name="keepOwnerAndMode">
    /// False to give the file <paramref name="newFileMode"/> and our own user even when it exists: a program root
    /// installs must end root-owned with its mode, whatever the file it replaces was.
    /// </param>
    /// <param name="durable">
    /// False to skip the fsyncs: after a crash the file may be the old one or empty, never a mix. Only for a copy that can
    /// be rebuilt (a cache), where the fsyncs would cost more than losing it.
    /// </param>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode newFileMode = DefaultMode, Action<string>? beforeCommit = null,
                             bool keepOwnerAndMode = true, bool durable = true)
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
        var existing = keepOwnerAndMode ? UnixFile.TryStat(target) : null;
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
                stream.Flush(flushToDisk: durable);
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
            if (durable) UnixFile.SyncDirectory(directory);
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

    /// <summary>Where the write lands: <paramref name="path"/>, or what its links lead to, reached only through what only root (or we) can change.</summary>
    /// <exception cref="WbException">ConfigPathUnsafe: something on the way could be changed by someone else.</exception>
    internal static string ResolveTarget(string path)
    {
        try { return TrustedPath.Resolve(path); }
        catch (UnsafeDirectoryException e) { throw Unsafe(path, e.Message); }
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
