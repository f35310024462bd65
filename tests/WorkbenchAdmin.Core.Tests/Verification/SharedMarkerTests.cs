using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>
/// The markers a heartbeat (run as root) keeps in shared storage, which every user can write to: nothing a
/// user plants there may make root read a file into the fingerprint, or create or overwrite a file elsewhere.
/// </summary>
public sealed class SharedMarkerTests : IDisposable
{
    private const string Address = "node1.example.com:8787";
    // 33 bytes that look like a marker: only the refusal to follow a link keeps them out of the fingerprint.
    private const string Secret = "5ec2e75ec2e75ec2e75ec2e75ec2e700\n";
    private readonly TempDirectory _dir = new();
    private readonly string _root;
    private readonly string _shared;

    public SharedMarkerTests()
    {
        _root = Directory.CreateDirectory(_dir.File("etc")).FullName;
        _shared = Directory.CreateDirectory(_dir.File("shared")).FullName;
        File.WriteAllText(Path.Combine(_root, "rserver.conf"), $"load-balancing-enabled=1\nserver-shared-storage-path={_shared}\n");
        // Shared storage as the install guide has it: every user may write there.
        File.SetUnixFileMode(_shared, (UnixFileMode)0x1FF);
        if (Posix.IsRoot) UnixFile.ChangeOwner(_shared, Posix.Nobody, Posix.Nobody);
    }

    public void Dispose() => _dir.Dispose();

    private string Markers => Path.Combine(_shared, NodeFingerprint.MarkerDirectory);
    private string Mine => Path.Combine(Markers, NodeFingerprint.MarkerFileName(Address));

    private NodeFingerprint Beat(string address = Address) =>
        NodeFingerprint.Compute(new ConfigRoot(_root), address, "2025.09.1", new TestMachine());

    [Fact]
    public void EachNodeKeepsOneMarkerAndReadsTheOthers()
    {
        var first = Beat();
        var other = Beat("node2.example.com:8787");
        Assert.Matches("^[0-9a-f]{32}$", first.Marker);
        Assert.Null(first.MarkerError);
        Assert.Equal(first.Marker + "\n", File.ReadAllText(Mine));
        Assert.Equal(first.Marker, Beat().Marker); // kept, not rewritten
        Assert.Equal(first.Marker, other.MarkersSeen[Address]);
        Assert.Equal(other.Marker, Beat().MarkersSeen["node2.example.com:8787"]);
        var status = UnixFile.TryStat(Markers, followLinks: false)!.Value;
        Assert.Equal(UnixFile.EffectiveUserId, status.Uid);
        Assert.Equal((UnixFileMode)0, status.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }

    [Fact]
    public void AMarkerThatLinksToAnotherFileIsNeverReadIntoTheFingerprint()
    {
        Beat();
        var shadow = _dir.Write("shadow", Secret);
        File.CreateSymbolicLink(Path.Combine(Markers, "evil.example.com_8787"), shadow);
        var print = Beat();
        Assert.DoesNotContain("evil.example.com:8787", print.MarkersSeen.Keys);
        Assert.DoesNotContain(Secret.Trim(), print.ToJson());
    }

    [Fact]
    public void OnlyRegularFilesOfAMarkersSizeAndShapeAreRead()
    {
        Beat();
        File.WriteAllText(Path.Combine(Markers, "long.example.com_8787"), Secret + "and more\n");
        File.WriteAllText(Path.Combine(Markers, "text.example.com_8787"), "not a marker, but 33 bytes long!\n");
        Directory.CreateDirectory(Path.Combine(Markers, "dir.example.com_8787"));
        File.WriteAllText(Path.Combine(Markers, "good.example.com_8787"), Secret);
        var print = Beat();
        Assert.Equal(new[] { "good.example.com:8787", Address }, print.MarkersSeen.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AMarkersDirectoryThatIsALinkIsRefusedAndNothingIsCreatedThroughIt()
    {
        var elsewhere = Directory.CreateDirectory(_dir.File("etc-cron.d")).FullName;
        File.WriteAllText(Path.Combine(elsewhere, "other.example.com_8787"), Secret);
        Directory.CreateSymbolicLink(Markers, elsewhere);
        var print = Beat();
        Assert.Equal(new[] { "other.example.com_8787" }, Directory.GetFileSystemEntries(elsewhere).Select(Path.GetFileName));
        Assert.Null(print.Marker);
        Assert.Empty(print.MarkersSeen);
        Assert.Contains(Markers, print.MarkerError);
        Assert.Contains("symbolic link", print.MarkerError);
    }

    [RootFact("chown to another user")]
    public void AMarkersDirectoryAUserOwnsIsRefused()
    {
        Directory.CreateDirectory(Markers);
        File.WriteAllText(Path.Combine(Markers, "other.example.com_8787"), Secret);
        UnixFile.ChangeOwner(Markers, Posix.Nobody, Posix.Nobody);
        var print = Beat();
        Assert.Null(print.Marker);
        Assert.Empty(print.MarkersSeen);
        Assert.False(File.Exists(Mine));
        Assert.Contains(Markers, print.MarkerError);
        Assert.Contains("owned by uid 65534", print.MarkerError);
    }

    [Fact]
    public void AMarkersDirectoryOthersCanWriteIsRefused()
    {
        Directory.CreateDirectory(Markers);
        File.SetUnixFileMode(Markers, (UnixFileMode)0x1FF); // 777
        var print = Beat();
        Assert.Null(print.Marker);
        Assert.False(File.Exists(Mine));
        Assert.Contains(Markers, print.MarkerError);
        Assert.Contains("writable by", print.MarkerError);
    }

    [Theory]
    [InlineData("")]      // an empty file the old code would have taken for "no marker yet" and overwritten
    [InlineData(Secret)]  // a file the old code would have taken as this node's marker
    public void AMarkerThatLinksToAnExistingFileNeverTouchesOrReadsIt(string content)
    {
        Directory.CreateDirectory(Markers);
        var victim = _dir.Write("victim", content);
        File.CreateSymbolicLink(Mine, victim);
        var print = Beat();
        Assert.Equal(content, File.ReadAllText(victim));
        Assert.NotEqual(Secret.Trim(), print.Marker);
        // The link itself was replaced by a marker of our own (a rename never follows a link).
        Assert.Null(new FileInfo(Mine).LinkTarget);
        Assert.Equal(print.Marker + "\n", File.ReadAllText(Mine));
    }
}
