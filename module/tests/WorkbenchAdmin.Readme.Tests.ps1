#Requires -Modules Pester
<#
    The README's PowerShell examples, so that they cannot rot. Every fenced powershell block of README.md with
    "PS> " prompts is a transcript pasted from examples/readme-session.ps1; this suite checks both halves:

    - Each transcript matches a real run: the script runs once (in a fresh pwsh, against the staged package in
      the repository's out/), and for every command the README shows, the script ran the same command and
      printed what the README prints, line for line. Only what changes from run to run is masked: dates, this
      host's load averages, the clock skew, the resolver's wording, the script's temporary directory, the
      throwaway server's port and the checkout's path. Test-WbCluster's grouped output is compared row by
      row (target, status, check id and what was found), since where its long lines wrap moves with the
      length of the temporary paths in them.
    - Each command runs: in a runspace of its own per README block, in order, as the README types it, against
      the same kind of setup as the script's (copies of examples/etc-rstudio as the nodes' /etc/rstudio, named
      by WORKBENCHADMIN_CONFIG_ROOT, with database.conf pointing at a throwaway PostgreSQL); a command commented
      "on each node" runs on every node of the block. It must not write an error, and a -WhatIf must change no
      file of the checkout's examples or the nodes' configuration.

    Run with the rest: ./build.ps1 -Task Package, Pester (it sets WORKBENCHADMIN_MODULE to the staged manifest).
    The recorded transcripts assume what the script's run on this project's machines has: running as root,
    no /nfs/workbench, and no resolver answer for the demo and example.com names.
#>

BeforeDiscovery {
    $readmePath = Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'README.md'
    # Every fenced powershell block with prompts, named by the "## " heading above it, split into one chunk per
    # command: the prompt line, the command's continuation lines, and what it printed.
    $heading = $null
    $block = $null
    $blocks = [System.Collections.Generic.List[object]]::new()
    foreach ($line in Get-Content -LiteralPath $readmePath) {
        if ($null -ne $block) {
            if ($line -match '^```') {
                if (@($block.Lines | Where-Object { $_.StartsWith('PS> ') }).Count -gt 0) { $blocks.Add($block) }
                $block = $null
            }
            else { $block.Lines.Add($line) }
            continue
        }
        if ($line -match '^## (.+)$') { $heading = $Matches[1] }
        elseif ($line -match '^```powershell\s*$') { $block = @{ Heading = $heading; Lines = [System.Collections.Generic.List[string]]::new() } }
    }

    # Script scope: the Describe blocks below read it during discovery.
    $script:readmeBlocks = foreach ($b in $blocks) {
        $chunks = [System.Collections.Generic.List[hashtable]]::new()
        foreach ($line in $b.Lines) {
            if ($line.StartsWith('PS> ')) {
                $chunks.Add(@{ Heading = $b.Heading; Number = $chunks.Count + 1; Lines = [System.Collections.Generic.List[string]]::new() })
            }
            if ($chunks.Count -gt 0) { $chunks[$chunks.Count - 1].Lines.Add($line) }
        }
        foreach ($chunk in $chunks) {
            # The command: the prompt line, and the lines after it while PowerShell's parser says it is incomplete.
            $command = $chunk.Lines[0].Substring(4)
            $next = 1
            while ($next -lt $chunk.Lines.Count) {
                $tokens = $null
                $errors = $null
                $null = [System.Management.Automation.Language.Parser]::ParseInput($command, [ref] $tokens, [ref] $errors)
                if (-not @($errors | Where-Object IncompleteInput)) { break }
                $command += "`n" + $chunk.Lines[$next]
                $next++
            }
            $expected = @($chunk.Lines)
            $last = $expected.Count - 1
            while ($last -gt 0 -and -not $expected[$last].Trim()) { $last-- }
            $chunk.Command = $command
            $chunk.Title = $chunk.Lines[0].Substring(4).Trim()
            $chunk.Expected = $expected[0..$last]
            $chunk.OnEachNode = $command -match '#\s*on each node'
        }
        @{ Heading = $b.Heading; BlockNumber = [array]::IndexOf($blocks.ToArray(), $b) + 1; Chunks = @($chunks) }
    }
    $script:commandCases = @($readmeBlocks | ForEach-Object { $_.Chunks })
}

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $script:repoRoot = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $script:moduleBase = (Get-Module WorkbenchAdmin).ModuleBase
    # The folder a user would put on PSModulePath: the one holding WorkbenchAdmin/<version>/.
    $script:modulesFolder = if ((Split-Path $moduleBase -Leaf) -as [version]) { Split-Path (Split-Path $moduleBase -Parent) -Parent } else { Split-Path $moduleBase -Parent }
    $script:savedConfigRoot = $env:WORKBENCHADMIN_CONFIG_ROOT
    $script:savedModulePath = $env:PSModulePath

    # What varies from one real run to the next, masked alike in the README and in the script's output.
    function Get-MaskedLine([string] $Line) {
        $Line = $Line -replace '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', 'YYYY-MM-DD hh:mm:ss'
        # Get-WbNode's Load5, right before Last Seen at the end of a node's row; the status page's three loads.
        $Line = $Line -replace '\s+\d+(\.\d+)?(?= YYYY-MM-DD hh:mm:ss$)', ' <load5>'
        $Line = $Line -replace 'Load: [^,\s]+, [^,\s]+, [^,\s]+$', 'Load: <1-min>, <5-min>, <15-min>'
        $Line = $Line -replace 'largest skew [\d.]+ s', 'largest skew <n> s'
        $Line = $Line -replace 'does not resolve from this host \([^)]*\)', 'does not resolve from this host (<resolver>)'
        $Line = $Line -replace '"[^"]*/examples/', '"<checkout>/examples/'
        $Line = $Line -replace '(/[\w.-]+)*/wbadmin-readme-\d+', '<temporary>'
        $Line -replace 'port\s*\d+\s*\(spec:', 'port <port> (spec:'
    }

    # Test-WbCluster's default view (grouped by target, long values wrapped) as one line per result.
    function ConvertFrom-CheckView([string[]] $Lines) {
        $target = $null
        $foundColumn = 0
        $row = $null
        foreach ($line in $Lines) {
            if ($line -match '^\s+Target: (.*)$') { $target = $Matches[1]; continue }
            if ($line -match '^(Status\s+CheckId\s+)Found$') { $foundColumn = $Matches[1].Length; continue }
            if ($line -match '^(Pass|Warn|Fail|Skip)\s+(\S+)') {
                if ($row) { $row }
                $row = [pscustomobject]@{ Target = $target; Status = $Matches[1]; CheckId = $Matches[2]; Found = $line.Substring([Math]::Min($foundColumn, $line.Length)) }
                continue
            }
            if ($row -and $line.Length -gt $foundColumn -and -not $line.Substring(0, $foundColumn).Trim()) {
                $row.Found += $line.Substring($foundColumn)
                continue
            }
            if ($row) { $row; $row = $null }
        }
        if ($row) { $row }
    }

    function Get-ComparableLine([string[]] $Lines) {
        if (@($Lines | Where-Object { $_ -match '^\s+Target: ' }).Count -gt 0) {
            # Where a long line wraps depends on the temporary paths in it: compare the values without white space.
            $prompt = @($Lines | Where-Object { $_.StartsWith('PS> ') })
            $prompt
            foreach ($r in ConvertFrom-CheckView -Lines $Lines) {
                "$($r.Status) $($r.CheckId) on $(Get-MaskedLine $r.Target): $((Get-MaskedLine $r.Found) -replace '\s', '')"
            }
        }
        else { $Lines | ForEach-Object { Get-MaskedLine $_ } }
    }

    # The throwaway PostgreSQL of the "runs" half, one database per README block.
    Add-Type -LiteralPath (Join-Path $moduleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:pg = $null
    $script:rservers = [Collections.Generic.List[Net.Sockets.TcpListener]]::new()
    $script:psql = Join-Path ([WorkbenchAdmin.Testing.ThrowawayPostgres]::FindBinaries()) 'psql'

    function Add-ReadmeDatabase([string] $Name) {
        if (-not $script:pg) { $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start() }
        $env:PGPASSWORD = $pg.Password
        try { & $psql -X -q -h $pg.Host -p $pg.Port -U postgres -d postgres -c "CREATE DATABASE $Name" }
        finally { Remove-Item -Path Env:PGPASSWORD -ErrorAction SilentlyContinue }
        if ($LASTEXITCODE -ne 0) { throw "psql could not create database $Name." }
    }

    # A node's /etc/rstudio as the script makes it: a copy of examples/etc-rstudio with its own address, the
    # given key, and a database.conf pointing at the block's database (the password encrypted with the key).
    function Copy-NodeRoot([string] $Directory, [string] $Name, [string] $Key, [string] $Database, [string] $SharedStorage) {
        $root = Join-Path $Directory $Name
        New-Item -ItemType Directory -Path $root -Force | Out-Null
        Copy-Item -Path (Join-Path $repoRoot 'examples' 'etc-rstudio' '*') -Destination $root
        Set-WbBalancer -ConfigRoot $root -Method sessions -WwwHostName "${Name}:8787" -Confirm:$false
        Set-Content -LiteralPath (Join-Path $root 'secure-cookie-key') -Value $Key
        $databaseConf = Join-Path $root 'database.conf'
        (Get-Content -LiteralPath $databaseConf) -replace '^host=.*', "host=$($pg.Host)" -replace '^port=.*', "port=$($pg.Port)" -replace '^database=.*', "database=$Database" -replace '^username=.*', 'username=postgres' |
            Set-Content -LiteralPath $databaseConf
        $password = [System.Net.NetworkCredential]::new('', $pg.Password).SecurePassword
        Protect-WbDatabasePassword -ConfigRoot $root -Password $password -Apply -Confirm:$false | Out-Null
        $rserverConf = Join-Path $root 'rserver.conf'
        if ($SharedStorage) {
            (Get-Content -LiteralPath $rserverConf) -replace '^server-shared-storage-path=.*', "server-shared-storage-path=$SharedStorage" |
                Set-Content -LiteralPath $rserverConf
        }
        # This node's rserver, which the heartbeat finds at www-address and www-port.
        $rserver = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $rserver.Start()
        $rservers.Add($rserver)
        Add-Content -LiteralPath $rserverConf -Value "www-address=127.0.0.1`nwww-port=$($rserver.LocalEndpoint.Port)"
        $root
    }

    # The nodes of a README block's cluster, as examples/readme-session.ps1 sets them up for that block.
    function Initialize-BlockCluster([string] $Heading, [int] $Number) {
        $directory = Join-Path $TestDrive "block$Number"
        Add-ReadmeDatabase -Name "readme$Number"
        $key = [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
        if ($Heading -eq 'Verifying a cluster') {
            # examples/etc-rstudio's own names; node3's key is its own. Registered and heartbeating.
            $nodeRoots = @(
                Copy-NodeRoot -Directory $directory -Name node1.example.com -Key $key -Database "readme$Number"
                Copy-NodeRoot -Directory $directory -Name node2.example.com -Key $key -Database "readme$Number"
                Copy-NodeRoot -Directory $directory -Name node3.example.com -Database "readme$Number" `
                    -Key ([Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)))
            )
            Initialize-WbDatabase -ConfigRoot $nodeRoots[0] -Confirm:$false | Out-Null
            foreach ($root in $nodeRoots) { Register-WbNode -ConfigRoot $root -WarningAction SilentlyContinue | Out-Null }
            foreach ($root in $nodeRoots) { Update-WbNodeStatus -ConfigRoot $root }
        }
        else {
            # Two demo nodes sharing a key and shared storage; the block's own commands create and join the cluster.
            $shared = Join-Path $directory 'shared-storage'
            New-Item -ItemType Directory -Path $shared -Force | Out-Null
            $nodeRoots = @(foreach ($name in 'node1.demo', 'node2.demo') {
                    Copy-NodeRoot -Directory $directory -Name $name -Key $key -Database "readme$Number" -SharedStorage $shared
                })
        }
        $nodeRoots
    }

    # A runspace standing for the user's session, in a checkout-like folder: ./examples (a copy) and ./out (the
    # package under test), the package's folder on PSModulePath, WORKBENCHADMIN_CONFIG_ROOT naming the first node.
    function Open-ReadmeSession([string] $Directory) {
        $checkout = Join-Path $Directory 'checkout'
        New-Item -ItemType Directory -Path $checkout -Force | Out-Null
        Copy-Item -Path (Join-Path $repoRoot 'examples') -Destination $checkout -Recurse
        New-Item -ItemType SymbolicLink -Path (Join-Path $checkout 'out') -Target $modulesFolder | Out-Null
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $runspace.SessionStateProxy.Path.SetLocation($checkout) | Out-Null
        $runspace
    }

    # Runs a README command in the session as typed (in its global scope, so its variables stay for the next
    # commands), formats its output as the console would, and returns the errors it wrote.
    function Invoke-ReadmeCommand([System.Management.Automation.Runspaces.Runspace] $Runspace, [string] $Command) {
        $shell = [powershell]::Create()
        try {
            $shell.Runspace = $Runspace
            $null = $shell.AddScript($Command).AddCommand('Out-String').AddParameter('Width', 100)
            $null = $shell.Invoke()
            @($shell.Streams.Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
        }
        finally { $shell.Dispose() }
    }
}

AfterAll {
    $env:WORKBENCHADMIN_CONFIG_ROOT = $savedConfigRoot
    $env:PSModulePath = $savedModulePath
    if ($rservers) { $rservers | ForEach-Object Stop }
    if ($pg) { $pg.Dispose() }
}

Describe 'README transcripts are a real run of examples/readme-session.ps1' -Tag 'Readme' {
    BeforeAll {
        $script:recorded = @{}
        $script:skipReason = $null
        $script:scriptPath = Join-Path $repoRoot 'examples' 'readme-session.ps1'
        # The script runs what the README shows: Import-Module ./out/WorkbenchAdmin, in the checkout.
        $repositoryOut = Join-Path $repoRoot 'out'
        if ([IO.Path]::GetFullPath($modulesFolder).TrimEnd('/') -ne [IO.Path]::GetFullPath($repositoryOut).TrimEnd('/')) {
            $script:skipReason = "the package under test ($moduleBase) is not the checkout's out/, which the README's commands import"
            return
        }
        $script:scriptOutput = @(& ([Environment]::ProcessPath) -NoProfile -NonInteractive -File $scriptPath 2>&1 | ForEach-Object { "$_" })
        $script:scriptExit = $global:LASTEXITCODE
        # One chunk per command (prompt, continuation lines, output), by README heading.
        $heading = $null
        foreach ($line in $scriptOutput) {
            if ($line -match '^==> (.+)$') {
                $heading = $Matches[1]
                $recorded[$heading] = [System.Collections.Generic.List[object]]::new()
                continue
            }
            if ($null -eq $heading) { continue }
            if ($line.StartsWith('PS> ')) { $recorded[$heading].Add([System.Collections.Generic.List[string]]::new()) }
            if ($recorded[$heading].Count -gt 0) { $recorded[$heading][$recorded[$heading].Count - 1].Add($line) }
        }
    }

    It 'the script is there and runs to the end without an error' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $scriptPath | Should -Exist
        $scriptExit | Should -Be 0 -Because (($scriptOutput | Select-Object -Last 15) -join "`n")
        @($scriptOutput | Where-Object { $_ -match '^(==> |PS> )' }).Count | Should -BeGreaterThan 0
    }

    It 'records exactly the README blocks and commands, in their order' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $readmeCommands = @($commandCases | ForEach-Object { "$($_.Heading): $($_.Expected[0])" })
        $scriptCommands = @(foreach ($h in @($scriptOutput | Where-Object { $_ -match '^==> ' } | ForEach-Object { $_.Substring(4) })) {
                foreach ($chunk in $recorded[$h]) { "${h}: $($chunk[0])" }
            })
        $scriptCommands | Should -Be $readmeCommands
    }

    It '<Heading>: PS> <Title>' -ForEach $commandCases {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $recorded.ContainsKey($Heading) | Should -BeTrue -Because "the script records a '$Heading' part"
        $recorded[$Heading].Count | Should -BeGreaterOrEqual $Number -Because "the script runs the README's command $Number of '$Heading'"
        $actual = @($recorded[$Heading][$Number - 1])
        $last = $actual.Count - 1
        while ($last -gt 0 -and -not $actual[$last].Trim()) { $last-- }
        $run = @(Get-ComparableLine -Lines $actual[0..$last])
        $readme = @(Get-ComparableLine -Lines $Expected)
        # Every line that differs, both versions (masked), so a failure says what to paste.
        $differences = for ($i = 0; $i -lt [Math]::Max($run.Count, $readme.Count); $i++) {
            $readmeLine = if ($i -lt $readme.Count) { $readme[$i] } else { '<no line>' }
            $runLine = if ($i -lt $run.Count) { $run[$i] } else { '<no line>' }
            if ($readmeLine -cne $runLine) { "line $($i + 1):`n  README: $readmeLine`n  run:    $runLine" }
        }
        $differences -join "`n" | Should -BeNullOrEmpty
    }
}

Describe 'README commands run: <Heading>' -Tag 'Readme' -ForEach $readmeBlocks {
    BeforeAll {
        $script:nodeRoots = @(Initialize-BlockCluster -Heading $Heading -Number $BlockNumber)
        $env:PSModulePath = $modulesFolder + [IO.Path]::PathSeparator + $savedModulePath
        $env:WORKBENCHADMIN_CONFIG_ROOT = $nodeRoots[0]
        $script:session = Open-ReadmeSession -Directory (Join-Path $TestDrive "block$BlockNumber")
    }

    AfterAll {
        if ($session) { $session.Dispose() }
        # The link to the package, removed as a link before TestDrive is cleaned up.
        $link = Join-Path $TestDrive "block$BlockNumber" 'checkout' 'out'
        if (Test-Path -LiteralPath $link) { (Get-Item -LiteralPath $link -Force).Delete() }
        $env:WORKBENCHADMIN_CONFIG_ROOT = $savedConfigRoot
        $env:PSModulePath = $savedModulePath
    }

    It 'PS> <Title>' -ForEach $Chunks {
        # Files a command could write: the checkout's examples and the nodes' configuration.
        $watched = @(Get-ChildItem -Path (Join-Path $TestDrive "block$BlockNumber") -Recurse -File -Force |
                Where-Object FullName -NotLike '*shared-storage*' | Sort-Object FullName)
        $before = @($watched | Get-FileHash -Algorithm SHA256 | ForEach-Object { "$($_.Path) $($_.Hash)" })
        $errors = @(Invoke-ReadmeCommand -Runspace $session -Command $Command)
        if ($OnEachNode) {
            # The same command on the other nodes, then a beat of the heartbeat service on all of them.
            foreach ($root in $nodeRoots | Select-Object -Skip 1) {
                $env:WORKBENCHADMIN_CONFIG_ROOT = $root
                try { $errors += Invoke-ReadmeCommand -Runspace $session -Command $Command }
                finally { $env:WORKBENCHADMIN_CONFIG_ROOT = $nodeRoots[0] }
            }
            foreach ($root in $nodeRoots) { Update-WbNodeStatus -ConfigRoot $root }
        }
        $errors | Should -BeNullOrEmpty
        if ($Command -match '-WhatIf\b') {
            @($watched | Get-FileHash -Algorithm SHA256 | ForEach-Object { "$($_.Path) $($_.Hash)" }) | Should -Be $before -Because '-WhatIf writes nothing'
        }
    }
}
