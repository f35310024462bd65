using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

public class ConfigEditorTests
{
    private static readonly Func<string, string, bool> Yes = (_, _) => true;
    private const string Original = "# Server configuration\r\nwww-port = 8787\r\n\r\n# shared storage\r\nserver-shared-storage-path=/nfs/shared\r\nload-balancing-enabled=0";

    [Fact]
    public void ChangingAKeyRewritesOnlyThatLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", Original);
        var edit = new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "load-balancing-enabled", "1")], Yes);
        Assert.Equal(ConfigEditOutcome.Written, edit.Outcome);
        Assert.Equal(Original.Replace("load-balancing-enabled=0", "load-balancing-enabled=1"), File.ReadAllText(path));
        Assert.Equal(("0", "1"), (edit.Changes[0].OldValue, edit.Changes[0].NewValue));
    }

    [Fact]
    public void UnchangedValuesWriteNothingAndAskNothing()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", Original);
        var before = File.GetLastWriteTimeUtc(path);
        var asked = false;
        var edit = new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "www-port", "8787")], (_, _) => asked = true);
        Assert.Equal(ConfigEditOutcome.Unchanged, edit.Outcome);
        Assert.False(asked);
        Assert.Equal(before, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void DeclinedShouldProcessWritesNothing()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", Original);
        string? target = null, action = null;
        var edit = new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "www-port", "9000")],
            (t, a) => { target = t; action = a; return false; });
        Assert.Equal(ConfigEditOutcome.Declined, edit.Outcome);
        Assert.Equal(path, target);
        Assert.Equal("Set www-port = 9000", action);
        Assert.Equal(Original, File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories), f => !f.EndsWith(DirectoryLock.LockFileName));
    }

    [Fact]
    public void AFailureBeforeTheRenameLeavesTheOriginalByteIdenticalAndNoTempFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", Original);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var bytes = File.ReadAllBytes(path);
        string? seenTemp = null;
        var editor = new ConfigEditor(new ConfigRoot(dir.Path), beforeCommit: temp =>
        {
            seenTemp = temp;
            // The temp file is complete and already carries the original's mode when the rename would happen.
            Assert.Equal(File.GetUnixFileMode(path), File.GetUnixFileMode(temp));
            Assert.Contains("load-balancing-enabled=1", File.ReadAllText(temp));
            throw new IOException("disk full (injected)");
        });
        var e = Assert.Throws<WbException>(() => editor.Edit("rserver.conf", [new ConfigChange(null, "load-balancing-enabled", "1")], Yes));
        Assert.Equal("ConfigWriteFailed", e.ErrorId);
        Assert.Contains("disk full (injected)", e.Message);
        Assert.Contains("not changed", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.NotNull(seenTemp);
        Assert.False(File.Exists(seenTemp));
    }

    [Fact]
    public void ReplacementKeepsModeAndOwner()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("database.conf", "provider=sqlite\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var before = UnixFile.TryStat(path)!.Value;
        new ConfigEditor(new ConfigRoot(dir.Path)).Edit("database.conf", [new ConfigChange(null, "provider", "postgresql")], Yes);
        var after = UnixFile.TryStat(path)!.Value;
        Assert.Equal(before.Mode, after.Mode);
        Assert.Equal((before.Uid, before.Gid), (after.Uid, after.Gid));
        Assert.NotEqual(before.Inode, after.Inode); // replaced by rename, not rewritten in place
    }

    [RootFact("chown to another user")]
    public void AsRootTheOwnerOfAnotherUsersFileIsPreserved()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", "a=1\n");
        UnixFile.ChangeOwner(path, 65534, 65534);
        new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "a", "2")], Yes);
        var after = UnixFile.TryStat(path)!.Value;
        Assert.Equal((65534u, 65534u), (after.Uid, after.Gid));
    }

    [Fact]
    public void NewDatabaseConfIsCreatedWithMode600()
    {
        using var dir = new TempDirectory();
        new ConfigEditor(new ConfigRoot(dir.Path)).Edit("database.conf", [new ConfigChange(null, "provider", "postgresql")], Yes);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("database.conf")));
        Assert.Equal("provider=postgresql\n", File.ReadAllText(dir.File("database.conf")));
    }

    [Fact]
    public void SymbolicLinksAreFollowedNotReplaced()
    {
        using var dir = new TempDirectory();
        var real = dir.Write("real/rserver.conf", "a=1\n");
        Directory.CreateDirectory(dir.File("etc"));
        var link = dir.File("etc/rserver.conf");
        File.CreateSymbolicLink(link, real);
        new ConfigEditor(new ConfigRoot(dir.File("etc"))).Edit("rserver.conf", [new ConfigChange(null, "a", "2")], Yes);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("a=2\n", File.ReadAllText(real));
    }

    [Fact]
    public void AMalformedFileIsNeverRewritten()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("rserver.conf", "a=1\nnot a setting\n");
        var e = Assert.Throws<ConfigFormatException>(() =>
            new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "a", "2")], Yes));
        Assert.Equal(2, e.LineNumber);
        Assert.Equal("a=1\nnot a setting\n", File.ReadAllText(path));
    }

    [Fact]
    public void ConcurrentEditorsNeverLoseAnUpdate()
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", "# shared\n");
        var root = new ConfigRoot(dir.Path);
        const int writers = 8, perWriter = 25;
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            for (var i = 0; i < perWriter; i++)
                new ConfigEditor(root).Edit("rserver.conf", [new ConfigChange(null, $"key-{w}-{i}", $"{w}.{i}")], Yes);
        });
        var doc = root.TryLoad("rserver.conf")!;
        Assert.Equal(writers * perWriter, doc.Entries.Count());
        for (var w = 0; w < writers; w++)
            for (var i = 0; i < perWriter; i++)
                Assert.Equal($"{w}.{i}", doc.GetValue(null, $"key-{w}-{i}"));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void AMissingConfigurationRootIsAnErrorAndIsNotCreated()
    {
        using var dir = new TempDirectory();
        var missing = dir.File("etc-typo");
        var e = Assert.Throws<WbException>(() => new ConfigEditor(new ConfigRoot(missing)).Edit("rserver.conf", [new ConfigChange(null, "a", "1")], Yes));
        Assert.Equal(("ConfigRootNotFound", WbErrorCategory.ObjectNotFound), (e.ErrorId, e.Category));
        Assert.False(Directory.Exists(missing));
    }
}
