namespace WorkbenchAdmin.Core.Tests.Model;

/// <summary>User text quoted in messages: one line, bounded, and printable as UTF-8.</summary>
public class SafeTextTests
{
    [Fact]
    public void LoneSurrogatesAreShownEscapedAndPairsKept()
    {
        Assert.Equal("a\\uD800b\\uDC00c\U0001F600", SafeText.Quote("a\uD800b\uDC00c\U0001F600"));
        Assert.Equal("x\\n\\ty", SafeText.Quote("x\n\ty"));
    }

    [Fact]
    public void TruncationNeverSplitsASurrogatePair()
    {
        var quoted = SafeText.Quote("a" + string.Concat(Enumerable.Repeat("\U0001F600", 100)), 120);
        Assert.EndsWith("…", quoted);
        Assert.False(char.IsHighSurrogate(quoted[^2]));
    }
}
