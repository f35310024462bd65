using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// An exclusive advisory lock (flock) on a directory, held through a small lock file inside it, so that
/// concurrent editors of the same configuration directory read-modify-write one at a time, whether they
/// are threads of one process or separate processes. The lock file is kept: deleting it would race.
/// Root takes it, so the file is opened without following a link (a planted one would have root create
/// or open any file) and used only when it is a regular file of ours with no other name.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    public const string LockFileName = ".workbenchadmin.lock";
    private const int LockExclusive = 2, LockNonBlocking = 4;
    private readonly FileDescriptor _fd;

    private DirectoryLock(FileDescriptor fd) => _fd = fd;

    public static DirectoryLock Acquire(string directory, TimeSpan timeout, CancellationToken cancel)
    {
        var path = Path.Combine(directory, LockFileName);
        var deadline = DateTime.UtcNow + timeout;
        var fd = OpenLockFile(directory, path);
        try
        {
            var delay = 1;
            while (UnixFile.Flock(fd, LockExclusive | LockNonBlocking) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == UnixFile.EIntr) continue;
                if (errno != UnixFile.EAgain)
                    throw new WbException("ConfigLockFailed", WbErrorCategory.PermissionDenied,
                        $"Cannot lock '{directory}' for editing: flock('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}", directory);
                if (DateTime.UtcNow >= deadline)
                    throw new WbException("ConfigLockTimeout", WbErrorCategory.ResourceBusy,
                        $"Another process has held '{path}' for more than {timeout.TotalSeconds:0.#} s; nothing was changed. Try again.", directory);
                // Waits on the command's stop signal, so Ctrl+C ends the wait at once.
                if (cancel.WaitHandle.WaitOne(delay)) throw new OperationCanceledException(cancel);
                delay = Math.Min(delay * 2, 50);
            }
            return new DirectoryLock(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static FileDescriptor OpenLockFile(string directory, string path)
    {
        // O_NOFOLLOW: a link is refused (ELOOP), its target neither created nor opened. O_NONBLOCK: a FIFO
        // planted here must not hang the open. No O_TRUNC: an existing lock file is never changed.
        const uint mode600 = 0x180;
        var fd = new FileDescriptor(UnixFile.Open(path,
            UnixFile.ORdWr | UnixFile.OCreat | UnixFile.ONoFollow | UnixFile.ONonblock | UnixFile.ONoCtty | UnixFile.OCloexec, mode600));
        if (fd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == UnixFile.ELoop) throw Unsafe(directory, path, "is a symbolic link");
            if (errno == UnixFile.EIsDir) throw Unsafe(directory, path, "is not a regular file");
            throw new WbException("ConfigLockFailed", errno == UnixFile.ENoEnt ? WbErrorCategory.ObjectNotFound : WbErrorCategory.PermissionDenied,
                $"Cannot lock '{directory}' for editing: cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}", directory);
        }
        try
        {
            var status = UnixFile.Stat(fd, path);
            var problem = status.Type != UnixFileType.Regular ? "is not a regular file"
                : status.Uid != UnixFile.EffectiveUserId ? $"is owned by uid {status.Uid}, not by uid {UnixFile.EffectiveUserId} (us)"
                : status.LinkCount != 1 ? $"has {status.LinkCount} links (another name for the same file)"
                : null;
            if (problem is not null) throw Unsafe(directory, path, problem);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static WbException Unsafe(string directory, string path, string problem) =>
        new("ConfigLockUnsafe", WbErrorCategory.SecurityError,
            $"Refusing to lock '{directory}' for editing: the lock file '{path}' {problem}, and taking it could create or open another file. " +
            $"Nothing was changed. Remove '{path}' (it is recreated, mode 600) and check who could write to '{directory}'.", directory);

    public void Dispose() => _fd.Dispose();
}
