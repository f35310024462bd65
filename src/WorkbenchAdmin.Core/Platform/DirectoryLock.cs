
namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// An exclusive advisory lock (flock) on a directory, held through a small lock file inside it, so that
/// concurrent editors of the same configuration directory read-modify-write one at a time, whether they
/// are threads of one process or separate processes. The lock file is kept: deleting it would race.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    public const string LockFileName = ".workbenchadmin.lock";
    private readonly FileStream _stream;

    private DirectoryLock(FileStream stream) => _stream = stream;

    public static DirectoryLock Acquire(string directory, TimeSpan timeout)
    {
        var path = Path.Combine(directory, LockFileName);
        var deadline = DateTime.UtcNow + timeout;
        var delay = 1;
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                return new DirectoryLock(new FileStream(path, options));
            }
            catch (IOException) when (DateTime.UtcNow < deadline && File.Exists(path))
            {
                // Waits on the command's stop signal, so Ctrl+C ends the wait at once.
                if (Logging.CommandLog.Cancellation.WaitHandle.WaitOne(delay)) throw new OperationCanceledException(Logging.CommandLog.Cancellation);
                delay = Math.Min(delay * 2, 50);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new WbException("ConfigLockTimeout", WbErrorCategory.ResourceBusy,
                    $"Another process has held '{path}' for more than {timeout.TotalSeconds:0.#} s; nothing was changed. Try again.", directory, e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new WbException("ConfigLockFailed", WbErrorCategory.PermissionDenied,
                    $"Cannot lock '{directory}' for editing: {e.Message}", directory, e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
