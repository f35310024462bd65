using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>The edit lock file, which root opens in a configuration directory: never through a link, never a file it did not make.</summary>
public sealed class DirectoryLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _etc;

    public DirectoryLockTests() => _etc = Directory.CreateDirectory(_dir.File("etc")).FullName;

    public void Dispose() => _dir.Dispose();

    private string LockPath => Path.Combine(_etc, DirectoryLock.LockFileName);

    private WbException Refused()
    {
        var e = Assert.Throws<WbException>(() => DirectoryLock.Acquire(_etc, TimeSpan.FromSeconds(1), CancellationToken.None).Dispose());
        Assert.Equal(("ConfigLockUnsafe", WbErrorCategory.SecurityError), (e.ErrorId, e.Category));
        Assert.Contains(LockPath, e.Message);
        Assert.Equal(_etc, e.Target);
        return e;
    }

    [Fact]
    public void TheLockFileIsCreatedWithMode600AndKept()
    {
        using (DirectoryLock.Acquire(_etc, TimeSpan.FromSeconds(1), CancellationToken.None)) { }
        var status = UnixFile.TryStat(LockPath, followLinks: false)!.Value;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, status.Mode);
        Assert.Equal(UnixFile.EffectiveUserId, status.Uid);
        using (DirectoryLock.Acquire(_etc, TimeSpan.FromSeconds(1), CancellationToken.None)) { } // and reused
    }

    [Fact]
    public void AHeldLockTimesOut()
    {
        using var held = DirectoryLock.Acquire(_etc, TimeSpan.FromSeconds(1), CancellationToken.None);
        var e = Assert.Throws<WbException>(() => DirectoryLock.Acquire(_etc, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(("ConfigLockTimeout", WbErrorCategory.ResourceBusy), (e.ErrorId, e.Category));
    }

    [Fact]
    public void APlantedLinkToAMissingFileIsRefusedAndItsTargetNeverCreated()
    {
        var target = _dir.File("elsewhere/created-by-root");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.CreateSymbolicLink(LockPath, target);
        Assert.Contains("symbolic link", Refused().Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void APlantedLinkToAnExistingFileIsRefusedAndTheFileUntouched()
    {
        var target = _dir.Write("shadow", "root:$6$secret:19000:0:99999:7:::\n");
        File.SetUnixFileMode(target, UnixFileMode.UserRead);
        File.CreateSymbolicLink(LockPath, target);
        Refused();
        Assert.Equal("root:$6$secret:19000:0:99999:7:::\n", File.ReadAllText(target));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(target));
    }

    [Fact]
    public void AHardLinkedLockFileIsRefused()
    {
        var other = _dir.Write("other", "");
        Posix.HardLink(other, LockPath);
        Assert.Contains("2 links", Refused().Message);
    }

    [Fact]
    public void ALockFileThatIsNotARegularFileIsRefused()
    {
        Directory.CreateDirectory(LockPath);
        Assert.Contains("not a regular file", Refused().Message);
    }

    [RootFact("chown to another user")]
    public void ALockFileSomeoneElseOwnsIsRefused()
    {
        File.WriteAllText(LockPath, "");
        UnixFile.ChangeOwner(LockPath, Posix.Nobody, Posix.Nobody);
        Assert.Contains("owned by uid 65534", Refused().Message);
    }
}
