using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Tests.Formats;

/// <summary>rstudio-server list-nodes output, in its documented format, read into nodes.</summary>
public sealed class ListNodesTextTests
{
    private const string Sample = """
        Cluster protocol: https
        ID  Host                   IPv4         Port  Status                     Last Seen
        1   ip-172-31-29-53        172.31.29.53 8787  Online                     2026-11-29 10:00:01
        12  ip-172-31-28-224.long  172.31.28.224 8787 Invalid secure cookie key  2026-11-29 09:58:00
        3   node3                               443   Offline                    2026-11-28 22:14:09
        """;

    [Fact]
    public void ColumnsAreCutWhereTheHeaderPlacesThem()
    {
        var nodes = ListNodesText.Parse(Sample);
        Assert.Equal(3, nodes.Count);
        Assert.Equal((1, "ip-172-31-29-53", "172.31.29.53", 8787, "Online"), (nodes[0].Id, nodes[0].Host, nodes[0].IPv4Address, nodes[0].Port, nodes[0].Status));
        Assert.Equal(NodeStatus.InvalidKey, nodes[1].Status);
        Assert.Null(nodes[2].IPv4Address);
        Assert.Equal(443, nodes[2].Port);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 22, 14, 9, TimeSpan.Zero), nodes[2].LastSeen);
        Assert.All(nodes, n => Assert.Equal("https", n.Protocol));
    }

    [Theory]
    [InlineData("ID  Host  IPv4  Port  Status  Last Seen\nx   h     1.2.3.4 8787 Online now\n", ":2: the ID 'x' is not a number")]
    [InlineData("ID  Host  IPv4  Port  Status  Last Seen\n1   h     1.2.3.4 99999 Online now\n", ":2: the port")]
    [InlineData("something else\n", ":1: expected the cluster protocol line or the header")]
    [InlineData("", "no header")]
    public void WhatIsNotListNodesOutputIsAnErrorNamingTheLine(string text, string message)
    {
        var e = Assert.Throws<WbException>(() => ListNodesText.Parse(text, "list-nodes.txt"));
        Assert.Equal(("ListNodesSyntaxError", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.Contains(message, e.Message);
    }
}
