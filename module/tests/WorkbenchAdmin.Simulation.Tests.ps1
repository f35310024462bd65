#Requires -Modules Pester
<#
    Measure-WbBalancer end to end, as a user runs it: synthetic comparisons, CSV and recorded workloads, cluster
    events, the HTML report (rendered in headless Chromium when it is installed) and the pipeline around it.

    Run with the rest: ./build.ps1 -Task Package, Pester (it sets WORKBENCHADMIN_MODULE to the staged manifest).
#>

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $script:moduleBase = (Get-Module WorkbenchAdmin).ModuleBase
    $script:modulePath = Join-Path $moduleBase 'WorkbenchAdmin.psd1'
    Add-Type -LiteralPath (Join-Path $moduleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:ellipsis = [string][char]0x2026
    $script:defaultMethods = 'sessions', 'system-load', 'user-hash', 'consistent-hash', 'bounded-hash'
    # A small synthetic comparison shared by the Its that only read it.
    $script:small = @{ UserCount = 80; NodeCount = 4; Days = 3; Seed = 11 }
    $script:results = Measure-WbBalancer @small -Event '1.10:00 add', '2.08:00 drain node01'

    # The results without the two timings, which differ from run to run.
    function ConvertTo-Comparable([object[]] $Result) {
        $Result | Select-Object -Property * -ExcludeProperty Elapsed, DecisionsPerSecond, Events, Series | ConvertTo-Json -Compress
    }
}

Describe 'Measure-WbBalancer' -Tag 'Cmdlets', 'Simulation' {
    It 'returns one typed object per method of a synthetic comparison, in order' {
        $results | Should -HaveCount 5
        $results | ForEach-Object { $_ | Should -BeOfType ([WorkbenchAdmin.Model.BalancerComparison]) }
        $results.Method | Should -Be $defaultMethods
        $results | ForEach-Object {
            $_.Sessions | Should -BeGreaterThan 100
            $_.Events | Should -HaveCount 2
            $_.Events[0].Node | Should -Be 'node05:8787'
        }
        # sessions spreads evenly by construction; user-hash never switches a user on a fixed node set before the first event.
        ($results | Where-Object Method -EQ 'sessions').MaxImbalance | Should -BeLessThan ($results | Where-Object Method -EQ 'user-hash').MaxImbalance
    }

    It 'the default view fits 80 columns without cutting a column' {
        $text = $results | Out-String -Width 80
        $text.Contains($ellipsis) | Should -BeFalse -Because "nothing is cut at 80 columns:`n$text"
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
        foreach ($shown in @($defaultMethods) + 'Refused', 'PeakSes', 'P95Ses', 'MaxImb', 'MeanImb', 'PeakLd', 'P95Ld', 'Switch%', 'Moved') {
            $text.Contains($shown) | Should -BeTrue -Because "'$shown' is shown whole:`n$text"
        }
    }

    It 'the series view fits 80 columns without cutting a column' {
        $rows = (Measure-WbBalancer -UserCount 20 -Days 1 -Method consistent-hash -Detail).Series | Select-Object -Last 4
        $rows | Should -HaveCount 4
        $text = $rows | Out-String -Width 80
        $text.Contains($ellipsis) | Should -BeFalse -Because "nothing is cut at 80 columns:`n$text"
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
        foreach ($shown in 'consistent-hash', '2024-01-02 00:00', 'node04:8787', 'Online', 'Sessions', 'Load/Core') {
            $text.Contains($shown) | Should -BeTrue -Because "'$shown' is shown whole:`n$text"
        }
    }

    It '-Report writes one self-contained HTML file' {
        $report = Join-Path $TestDrive 'report.html'
        Measure-WbBalancer @small -Method sessions, user-hash -Report $report | Out-Null
        $html = Get-Content -Raw -LiteralPath $report
        $html | Should -Match '^<!DOCTYPE html>'
        ([regex]::Matches($html, '<svg ')).Count | Should -BeGreaterOrEqual 5 -Because 'arrivals, two bar charts, imbalance over time and one chart per method'
        $html | Should -Not -Match '<script|\ssrc=|\shref=|url\(|@import'
        $html | Should -Match 'sessions per node'
    }

    It 'the report renders in headless Chromium as a page with charts, not a blank one' {
        if (-not [WorkbenchAdmin.Testing.HeadlessChromium]::Find()) {
            Set-ItResult -Skipped -Because 'chromium is not installed (/usr/bin/chromium; apt-get install chromium, ./bootstrap.sh installs it)'
            return
        }
        $report = Join-Path $TestDrive 'render.html'
        $png = Join-Path $TestDrive 'render.png'
        Measure-WbBalancer @small -Report $report | Out-Null
        [WorkbenchAdmin.Testing.HeadlessChromium]::Screenshot($report, $png, 1200, 1600, 120)
        $image = [WorkbenchAdmin.Testing.PngSummary]::Read($png)
        $image.Width | Should -Be 1200
        $image.Height | Should -Be 1600
        # Text, grid lines and a dozen chart colours, anti-aliased: hundreds of colours; a blank page has one.
        $image.DistinctColours | Should -BeGreaterThan 100
        $image.NonWhiteFraction | Should -BeGreaterThan 0.05
    }

    It 'the same -Seed gives the same objects and a byte-identical report; another seed does not' {
        $a, $b, $c = foreach ($seed in 3, 3, 4) {
            $path = Join-Path $TestDrive "seed-$seed-$([guid]::NewGuid().ToString('N')).html"
            $result = Measure-WbBalancer -UserCount 50 -Days 2 -Seed $seed -Report $path
            [pscustomobject]@{ Json = ConvertTo-Comparable $result; Hash = (Get-FileHash -LiteralPath $path).Hash }
        }
        $a.Json | Should -Be $b.Json
        $a.Hash | Should -Be $b.Hash
        $c.Json | Should -Not -Be $a.Json
        $c.Hash | Should -Not -Be $a.Hash
    }

    It 'pipes to Export-Csv: one row per method with its figures' {
        $csv = Join-Path $TestDrive 'methods.csv'
        $results | Export-Csv -LiteralPath $csv
        $rows = Import-Csv -LiteralPath $csv
        $rows | Should -HaveCount 5
        $rows.Method | Should -Be $defaultMethods
        [double]$rows[0].MaxImbalance | Should -Be $results[0].MaxImbalance
        $rows[0].EventSummary | Should -Match '^1\.10:00 add node05:8787: \d+/\d+ moved, 0 lost; 2\.08:00 drain node01:8787: \d+/\d+ moved, 0 lost$'
    }

    It 'names the file and line of a bad CSV line' {
        $csv = Join-Path $TestDrive 'arrivals.csv'
        Set-Content -LiteralPath $csv -Value 'user,start,end,cpu', 'alice,2024-01-01T09:00:00Z,2024-01-01T10:00:00Z,1', 'bob,2024-01-01T09:05:00Z,soon,1'
        $err = { Measure-WbBalancer -Path $csv -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidWorkloadCsv,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.Exception.Message | Should -BeLike "*${csv}:3: end ""soon"" is not a time*"
    }

    It 'replays a CSV of arrivals and piped recorded sessions on their own nodes' {
        $csv = Join-Path $TestDrive 'good.csv'
        Set-Content -LiteralPath $csv -Value 'user,start,end,cpu', 'alice,2024-01-01T09:00:00Z,2024-01-01T10:00:00Z,1', 'bob,2024-01-01T09:05:00Z,,0.5', 'alice,2024-01-01T11:00:00Z,2024-01-01T12:00:00Z,1'
        $fromCsv = Measure-WbBalancer -Path $csv -NodeCount 2 -Method sessions
        $fromCsv.Sessions | Should -Be 3

        $t0 = [DateTimeOffset]'2024-01-01T09:00:00Z'
        $recorded = 1..6 | ForEach-Object {
            [WorkbenchAdmin.Model.SessionInfo]@{ Id = $_; UserName = "user$($_ % 3)"; Node = "node$($_ % 2).example.com:8787"; Started = $t0.AddMinutes($_); Ended = $t0.AddMinutes(30 + $_) }
        }
        $replayed = $recorded | Measure-WbBalancer -Method sessions, user-hash -Detail
        $replayed | Should -HaveCount 2
        $replayed[0].Sessions | Should -Be 6
        @($replayed[0].Series.Node | Sort-Object -Unique) | Should -Be 'node0.example.com:8787', 'node1.example.com:8787'
        $replayed[0].Series[0] | Should -BeOfType ([WorkbenchAdmin.Model.BalancerSample])
    }

    It 'runs a custom script for real on every decision' {
        $script = Join-Path $TestDrive 'first.sh'
        Set-Content -LiteralPath $script -Value "#!/bin/sh`necho `"`${RSTUDIO_NODES%%,*}`""
        & chmod '+x' $script
        $r = Measure-WbBalancer -UserCount 5 -Days 1 -NodeCount 3 -Method custom, sessions -ScriptPath $script -TimeoutSec 10
        $r.Method | Should -Be 'custom', 'sessions'
        $r[0].Decisions | Should -Be $r[0].Sessions
        $r[0].MaxImbalance | Should -BeGreaterThan $r[1].MaxImbalance -Because 'the script always picks node01'
    }

    It 'rejects an event that cannot happen, naming it' {
        $err = { Measure-WbBalancer @small -Event '1.10:00 drain node09' -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidBalancerEvent,*'
        $err.Exception.Message | Should -BeLike "*'1.10:00 drain node09'*no node node09:8787*"
    }

    It 'writes progress without breaking a script run with -ErrorAction Stop' {
        $command = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'Continue'; Import-Module '$modulePath'; " +
                   "`$r = Measure-WbBalancer -UserCount 300 -Days 20 -NodeCount 8 -ErrorAction Stop; 'methods=' + `$r.Count"
        $output = & pwsh -NoProfile -NonInteractive -Command $command 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        ($output | Select-Object -Last 1) | Should -Be 'methods=5'

        # In-process, the progress stream carries the method being measured.
        $ps = [PowerShell]::Create()
        $null = $ps.AddCommand('Import-Module').AddParameter('Name', $modulePath).AddStatement().AddCommand('Measure-WbBalancer').AddParameter('UserCount', 200).AddParameter('Days', 10).AddParameter('ErrorAction', 'Stop')
        $out = $ps.Invoke()
        $ps.HadErrors | Should -BeFalse
        $out | Should -HaveCount 5
        @($ps.Streams.Progress | Where-Object StatusDescription -Like 'system-load (2 of 5)*').Count | Should -BeGreaterThan 0
        $ps.Dispose()
    }
}
