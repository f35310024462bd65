using System.Text.RegularExpressions;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// A libpq connection URI (<c>postgres://</c> or <c>postgresql://</c>): user, password, host, port,
/// database and query parameters such as <c>sslmode</c>, <c>sslcert</c>, <c>sslkey</c>, <c>sslrootcert</c>.
/// A password may stand in the user info or, as libpq also takes it, in a <c>password</c> parameter (which
/// wins); either way it is <see cref="Password"/>, never one of <see cref="Parameters"/>.
/// </summary>
public sealed partial record PostgresConnectionUri
{
    public string? User { get; init; }
    public SecretValue? Password { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? Database { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    public string? SslMode => Parameters.GetValueOrDefault("sslmode");

    public static PostgresConnectionUri Parse(string text)
    {
        string rest;
        if (text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)) rest = text["postgresql://".Length..];
        else if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)) rest = text["postgres://".Length..];
        else throw new FormatException("must start with postgresql:// or postgres://");

        // User info first, as libpq finds it: before an '@' that comes before any '/' (so a password may
        // hold a '?'); the last such '@', as MaskPassword covers.
        string? user = null;
        SecretValue? password = null;
        var firstSlash = rest.IndexOf('/');
        var at = (firstSlash < 0 ? rest : rest[..firstSlash]).LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            user = Decode(colon >= 0 ? userInfo[..colon] : userInfo);
            if (colon >= 0) password = new SecretValue(Decode(userInfo[(colon + 1)..]));
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            foreach (var pair in rest[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                // Messages name the part at fault, never its text: the URI may hold a password.
                if (eq <= 0) throw new FormatException("has a parameter after '?' that is not name=value");
                parameters[Decode(pair[..eq])] = Decode(pair[(eq + 1)..]);
            }
            rest = rest[..q];
        }
        var passwordParameter = parameters.Remove(PasswordParameter, out var p1) ? new SecretValue(p1) : null;

        string? database = null;
        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            database = Decode(rest[(slash + 1)..]);
            rest = rest[..slash];
        }

        if (rest.Contains(','))
            throw new FormatException("names several hosts; WorkbenchAdmin connects to one host");

        string? host;
        string? portText = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) throw new FormatException("has an unterminated [IPv6] host");
            host = rest[1..close];
            var after = rest[(close + 1)..];
            if (after.StartsWith(':')) portText = after[1..];
            else if (after.Length > 0) throw new FormatException("has text after its [IPv6] host");
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
            if (colon >= 0) portText = rest[(colon + 1)..];
        }

        int? port = null;
        if (!string.IsNullOrEmpty(portText))
        {
            if (!int.TryParse(portText, out var p) || p is < 1 or > 65535)
                throw new FormatException("has a port that is not a number from 1 to 65535");
            port = p;
        }

        return new PostgresConnectionUri
        {
            User = string.IsNullOrEmpty(user) ? null : user,
            Password = passwordParameter ?? password,
            Host = string.IsNullOrEmpty(host) ? null : Decode(host),
            Port = port,
            Database = string.IsNullOrEmpty(database) ? null : database,
            Parameters = parameters,
        };
    }

    /// <summary>The parsed URI, or null when it is not one <see cref="Parse"/> reads.</summary>
    public static PostgresConnectionUri? TryParse(string text)
    {
        try { return Parse(text); }
        catch (FormatException) { return null; }
    }

    private static string Decode(string s)
    {
        try { return Uri.UnescapeDataString(s); }
        catch (UriFormatException) { throw new FormatException("has a bad %-escape"); }
    }

    private const string PasswordParameter = "password";

    /// <summary>The URI with any password (user info or <c>password</c> parameter) masked, for display.</summary>
    public static string MaskPassword(string text) => ReplacePassword(text, SecretValue.Mask);

    /// <summary>The URI with any password taken out and every other character as written.</summary>
    public static string WithoutPassword(string text) => ReplacePassword(text, null);

    public static bool HasPassword(string text) => WithoutPassword(text) != text;

    private static string ReplacePassword(string text, string? mask)
    {
        var result = UserInfoPassword().Replace(text, m => m.Groups["user"].Value + (mask is null ? "" : ":" + mask) + "@", 1);
        var q = result.IndexOf('?');
        if (q < 0) return result;
        var parameters = result[(q + 1)..].Split('&')
            .Select(p => !IsPasswordParameter(p) ? p : mask is null ? null : $"{PasswordParameter}={mask}")
            .OfType<string>().ToList();
        return parameters.Count == 0 ? result[..q] : $"{result[..(q + 1)]}{string.Join('&', parameters)}";
    }

    /// <summary>The name decoded as <see cref="Parse"/> decodes it: <c>pass%77ord=</c> is a password too.</summary>
    private static bool IsPasswordParameter(string parameter)
    {
        var eq = parameter.IndexOf('=');
        return eq >= 0 && Decode(parameter[..eq]) == PasswordParameter;
    }

    /// <summary>
    /// A user-info password, as <see cref="Parse"/> reads it: from the first ':' to the last '@' before any
    /// '/' (a raw '?', or '@', in a password is covered whole).
    /// </summary>
    [GeneratedRegex(@"(?<user>postgres(?:ql)?://[^:/]*):[^/]*@", RegexOptions.IgnoreCase)]
    private static partial Regex UserInfoPassword();
}
