using System.Text;
using System.Text.RegularExpressions;

namespace WorkbenchAdmin.Core.Formats;

/// <summary>PowerShell-style wildcards (<c>*</c>, <c>?</c>, <c>[abc]</c>, backtick escapes), case-insensitive.</summary>
public sealed class Wildcard
{
    private readonly Regex _regex;

    public Wildcard(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length: sb.Append(Regex.Escape(pattern[++i].ToString())); break;
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0) { sb.Append(@"\["); break; }
                    sb.Append('[').Append(pattern[(i + 1)..close].Replace(@"\", @"\\")).Append(']');
                    i = close;
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        _regex = new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public bool IsMatch(string text) => _regex.IsMatch(text);

    public static bool HasWildcards(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    /// <summary>True when no patterns are given, or any one matches.</summary>
    public static bool AnyMatch(IReadOnlyList<Wildcard>? patterns, string text) =>
        patterns is null || patterns.Count == 0 || patterns.Any(p => p.IsMatch(text));
}
