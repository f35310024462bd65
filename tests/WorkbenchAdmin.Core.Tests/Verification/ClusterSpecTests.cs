using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

public class ClusterSpecTests
{
    [Fact]
    public void TheExampleSpecDocumentsAndParsesEveryField()
    {
        var spec = ClusterSpec.Load(Path.Combine(RepoPaths.Root, "examples", "cluster.yaml"));
        Assert.Equal(["node1.example.com:8787", "node2.example.com:8787"], spec.Nodes);
        Assert.Equal(("sessions", "http", "pg.example.com", 5432, "rstudio"), (spec.Balancer, spec.Protocol, spec.Database!.Host, spec.Database.Port, spec.Database.Name));
        Assert.Equal(("/nfs/workbench/shared-storage", "/nfs/workbench/home", 2.0), (spec.SharedStoragePath, spec.HomeRoot, spec.ClockToleranceSec));
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "cluster.yaml"));
        foreach (var field in typeof(ClusterSpec).GetProperties().Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..]))
            Assert.Contains(field + ":", text);
    }

    [Theory]
    [InlineData("nodes:\n  - a:1\nbalancr: sessions\n", 3, 1, "balancr")]
    [InlineData("nodes: [a:1\nbalancer: x\n", 1, 8, "unclosed '['")]
    [InlineData("database:\n  port: many\n", 2, 9, "")]
    public void MalformedYamlIsAnErrorWithLineAndColumn(string yaml, int line, int column, string mentions)
    {
        var e = Assert.Throws<WbException>(() => ClusterSpec.Parse(yaml, "/tmp/cluster.yaml"));
        Assert.Equal(("SpecSyntaxError", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.StartsWith($"/tmp/cluster.yaml:{line}:{column}: ", e.Message);
        Assert.Contains(mentions, e.Message);
    }

    [Theory]
    [InlineData("balancer: round-robin\n", "balancer: 'round-robin'")]
    [InlineData("protocol: ftp\n", "protocol: 'ftp'")]
    [InlineData("nodes:\n  - 'bad host:1'\n", "nodes: 'bad host:1'")]
    [InlineData("database:\n  port: 70000\n", "database.port")]
    public void InvalidValuesNameTheField(string yaml, string mentions)
    {
        var e = Assert.Throws<WbException>(() => ClusterSpec.Parse(yaml, "c.yaml"));
        Assert.Equal("SpecInvalid", e.ErrorId);
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public void AMissingSpecFileIsNotFound()
    {
        using var dir = new TempDirectory();
        Assert.Equal(WbErrorCategory.ObjectNotFound, Assert.Throws<WbException>(() => ClusterSpec.Load(dir.File("none.yaml"))).Category);
    }
}
