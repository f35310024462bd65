using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>
/// Root replaces configuration files by writing a temporary file beside them, changing its owner and
/// renaming it. Only where no one but root (or the user running it) can change the directory entries is
/// that safe: links may lead there, never out of it.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private static readonly Func<string, string, bool> Yes = (_, _) => true;
    private readonly TempDirectory _dir = new();
    private readonly string _etc;

    public AtomicFileTests() => _etc = Directory.CreateDirectory(_dir.File("etc")).FullName;

    public void Dispose() => _dir.Dispose();


    private WbException Refused(string fileName = "rserver.conf")
    {
        var e = Assert.Throws<WbException>(() =>
            new ConfigEditor(new ConfigRoot(_etc)).Edit(fileName, [new ConfigChange(null, "a", "2")], Yes));
        Assert.Equal(("ConfigPathUnsafe", WbErrorCategory.SecurityError), (e.ErrorId, e.Category));
        Assert.Contains(Path.Combine(_etc, fileName), e.Message);
        Assert.Contains("not changed", e.Message);
        return e;
    }

    /// <summary>A directory a user owns, holding a configuration file, and a link to that file from the root.</summary>
    private (string Directory, string File) LinkInto(string name, UnixFileMode mode, uint? owner)
    {
        var directory = Directory.CreateDirectory(_dir.File(name)).FullName;
        var file = _dir.Write($"{name}/rserver.conf", "a=1\n");
        File.SetUnixFileMode(directory, mode);
        if (owner is { } uid) { UnixFile.ChangeOwner(file, uid, uid); UnixFile.ChangeOwner(directory, uid, uid); }
        File.CreateSymbolicLink(Path.Combine(_etc, "rserver.conf"), file);
        return (directory, file);
    }

    [RootFact("chown to another user")]
    public void ALinkIntoADirectoryAUserOwnsIsNotFollowed()
    {
        var (directory, file) = LinkInto("home-alice", (UnixFileMode)0x1ED /* 755 */, Posix.Nobody);
        var e = Refused();
        Assert.Contains($"{directory} is owned by uid 65534", e.Message);
        Assert.Equal("a=1\n", File.ReadAllText(file));
        Assert.Equal(new[] { "rserver.conf" }, Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Fact]
    public void ALinkIntoADirectoryOthersCanWriteIsNotFollowed()
    {
        var (directory, file) = LinkInto("scratch", (UnixFileMode)0x1FF /* 777 */, null);
        var e = Refused();
        Assert.Contains($"{directory} is writable by others", e.Message);
        Assert.Equal("a=1\n", File.ReadAllText(file));
    }

    [RootFact("chown to another user")]
    public void ALinkUnderADirectoryAUserOwnsIsNotFollowed()
    {
        // The file's own directory is root's, but a user owns one above it and could swap it.
        var alice = Directory.CreateDirectory(_dir.File("alice")).FullName;
        var directory = Directory.CreateDirectory(Path.Combine(alice, "etc")).FullName;
        var file = Path.Combine(directory, "rserver.conf");
        File.WriteAllText(file, "a=1\n");
        UnixFile.ChangeOwner(alice, Posix.Nobody, Posix.Nobody);
        File.CreateSymbolicLink(Path.Combine(_etc, "rserver.conf"), file);
        Assert.Contains($"{alice} is owned by uid 65534", Refused().Message);
        Assert.Equal("a=1\n", File.ReadAllText(file));
    }

    [RootFact("chown to another user")]
    public void ALinkAUserOwnsIsNotFollowedEvenToARootFile()
    {
        var real = _dir.Write("real/rserver.conf", "a=1\n");
        var sticky = Directory.CreateDirectory(_dir.File("tmp")).FullName;
        File.SetUnixFileMode(sticky, (UnixFileMode)0x3FF); // 1777, as /tmp
        var hop = Path.Combine(sticky, "hop");
        File.CreateSymbolicLink(hop, real);
        Posix.ChownLink(hop, Posix.Nobody, Posix.Nobody); // a user's link: she may point it anywhere at any time
        File.CreateSymbolicLink(Path.Combine(_etc, "rserver.conf"), hop);
        Assert.Contains($"{hop} is a link owned by uid 65534", Refused().Message);
        Assert.Equal("a=1\n", File.ReadAllText(real));
    }

    [RootFact("chown to another user")]
    public void AConfigurationRootAUserOwnsIsNotWrittenByRoot()
    {
        var file = _dir.Write("etc/rserver.conf", "a=1\n");
        UnixFile.ChangeOwner(_etc, Posix.Nobody, Posix.Nobody);
        Assert.Contains($"{_etc} is owned by uid 65534", Refused().Message);
        Assert.Equal("a=1\n", File.ReadAllText(file));
    }

    [Fact]
    public void ALinkWithinTrustedDirectoriesIsFollowedAndKept()
    {
        var real = _dir.Write("real/rserver.conf", "a=1\n");
        var hop = _dir.File("real/hop.conf");
        File.CreateSymbolicLink(hop, "rserver.conf"); // relative, resolved against the link's directory
        File.CreateSymbolicLink(Path.Combine(_etc, "rserver.conf"), "../real/hop.conf");
        new ConfigEditor(new ConfigRoot(_etc)).Edit("rserver.conf", [new ConfigChange(null, "a", "2")], Yes);
        Assert.Equal("a=2\n", File.ReadAllText(real));
        Assert.Equal("../real/hop.conf", new FileInfo(Path.Combine(_etc, "rserver.conf")).LinkTarget);
        Assert.Equal("rserver.conf", new FileInfo(hop).LinkTarget);
    }

    [Fact]
    public void ALinkLoopIsAnErrorNamingTheFile()
    {
        File.CreateSymbolicLink(Path.Combine(_etc, "rserver.conf"), "rserver.conf");
        var e = Assert.Throws<WbException>(() => AtomicFile.Write(Path.Combine(_etc, "rserver.conf"), "a=2\n"u8));
        Assert.Equal(("ConfigWriteFailed", WbErrorCategory.WriteError), (e.ErrorId, e.Category));
        Assert.Contains(Path.Combine(_etc, "rserver.conf"), e.Message);
        Assert.Contains("symbolic links", e.Message);
    }
}
