using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>The balancer program's stdout and stderr: written at the descriptor's own offset, as a shell's redirection expects.</summary>
public sealed class DescriptorStreamTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WritesGoWhereTheDescriptorStandsAndMoveIt()
    {
        // Two writers of one descriptor (the program and the shell after it, `rserver-balancer > out; echo done >&1`):
        // each write lands after the last, none over it.
        var path = _dir.Write("out", "");
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        var fd = (int)handle.DangerousGetHandle();
        using (var first = new DescriptorStream(fd)) first.Write("node1.example.com:8787\n"u8);
        using (var second = new DescriptorStream(fd)) second.Write("done\n"u8);
        Assert.Equal("node1.example.com:8787\ndone\n", File.ReadAllText(path));
    }

    [Fact]
    public void DisposingTheStreamLeavesTheDescriptorOpen()
    {
        var path = _dir.Write("out", "");
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        var fd = (int)handle.DangerousGetHandle();
        new DescriptorStream(fd).Dispose();
        using (var again = new DescriptorStream(fd)) again.Write("still open\n"u8);
        Assert.Equal("still open\n", File.ReadAllText(path));
    }

    [Fact]
    public void AWriteToAClosedDescriptorFailsNamingIt()
    {
        using var stream = new DescriptorStream(1_000_000);
        var e = Assert.ThrowsAny<IOException>(() => stream.Write("x"u8));
        Assert.Contains("descriptor 1000000", e.Message);
    }
}
