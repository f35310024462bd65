using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Tests.Formats;

public class SessionLoadTextTests
{
    // The example from the installation guide, byte for byte.
    private const string GuideSample =
        "ip-172-31-29-53:8787 -  Load: 0.0063, 0.019, 0\n" +
        "   48751 - user1\n" +
        "   39972 - user1\n" +
        "ip-172-31-28-224:8787 -  Load: 0.051, 0.041, 0.029\n" +
        "   39959 - user1\n" +
        "   40055 - user1\n";

    [Fact]
    public void FormatsTheGuidesSampleByteForByte()
    {
        NodeSessionLoad[] nodes =
        [
            new() { Address = "ip-172-31-29-53:8787", Load1 = 0.0063, Load5 = 0.019, Load15 = 0, Sessions = [new(48751, "user1"), new(39972, "user1")] },
            new() { Address = "ip-172-31-28-224:8787", Load1 = 0.051, Load5 = 0.041, Load15 = 0.029, Sessions = [new(39959, "user1"), new(40055, "user1")] },
        ];
        Assert.Equal(GuideSample, SessionLoadText.Format(nodes));
    }

    [Fact]
    public void ParsesTheGuidesSampleAndFormatsItBackIdentically()
    {
        var parsed = SessionLoadText.Parse(GuideSample);
        Assert.Equal(2, parsed.Count);
        Assert.Equal(("ip-172-31-29-53:8787", 0.0063, 0.019, 0.0), (parsed[0].Address, parsed[0].Load1, parsed[0].Load5, parsed[0].Load15));
        Assert.Equal([48751, 39972], parsed[0].Sessions.Select(s => s.Pid));
        Assert.Equal(2, parsed[1].SessionCount);
        Assert.Equal(GuideSample, SessionLoadText.Format(parsed));
        // As curl prints it from the guide's comment lines, and with CRLF line ends.
        Assert.Equal(GuideSample, SessionLoadText.Format(SessionLoadText.Parse(GuideSample.Replace("\n", "\r\n"))));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1.0, "1")]
    [InlineData(0.5, "0.5")]
    [InlineData(12.3456789, "12.3457")]
    [InlineData(123456.7, "123457")]
    [InlineData(1234567.0, "1.23457e+06")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001234, "1.234e-05")]
    [InlineData(999999.5, "1e+06")]
    [InlineData(2.0 / 3, "0.666667")]
    public void LoadsPrintLikeCppStreams(double value, string expected) => Assert.Equal(expected, SessionLoadText.FormatLoad(value));

    [Theory]
    [InlineData("node1:8787 Load: 1, 2, 3\n", 1)]
    [InlineData("   123 - user\n", 1)]
    [InlineData("n:1 -  Load: 0, 0, 0\n   12x - user\n", 2)]
    [InlineData("n:1 -  Load: 0, abc, 0\n", 1)]
    [InlineData("n:1 -  Load: 0, 0, 0\n   42 - amy\n   9999999999 - bob\n", 3)] // ten digits, past the largest PID
    [InlineData("n:1 -  Load: 0, 0, 0\n   2147483648 - bob\n", 2)]
    public void MalformedTextNamesTheLine(string text, int line)
    {
        var e = Assert.Throws<WbException>(() => SessionLoadText.Parse(text, "http://node1:8787/load-balancer/status"));
        Assert.Equal(("SessionLoadSyntaxError", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.Contains($"http://node1:8787/load-balancer/status:{line}:", e.Message);
    }
}
